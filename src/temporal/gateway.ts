import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import {
  NotificationStatusKey,
  NotificationTypeKey,
  ScheduledAtKey,
  UserIdKey,
  type NotificationInput,
} from '../../workflows/definitions';
import type { notificationWorkflow } from '../../workflows';

/** What the API needs from Temporal, in the vocabulary of notifications. */
export class TemporalGateway {
  constructor(
    readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /**
   * Starts the notification's workflow. Safe to repeat: a running workflow with the same id is
   * reused. Returns false when a closed run already holds the id.
   */
  async startNotification(input: NotificationInput): Promise<boolean> {
    try {
      await this.client.workflow.start<typeof notificationWorkflow>('notificationWorkflow', {
        workflowId: input.notificationId,
        taskQueue: this.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: NotificationStatusKey, value: 'SCHEDULED' },
          { key: UserIdKey, value: input.userId },
          { key: NotificationTypeKey, value: input.type },
          { key: ScheduledAtKey, value: new Date(input.scheduledAt) },
        ],
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  async isReachable(): Promise<boolean> {
    try {
      await this.client.connection.workflowService.getSystemInfo({});
      return true;
    } catch {
      return false;
    }
  }
}
