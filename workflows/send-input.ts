// The input of one send, built the same way by the workflow (send activities) and by the due-time
// activity (the first attempt it makes itself). Workflow-safe: no I/O, type imports only.
import type { SendInput } from '../activities';
import type { Content, NotificationInput } from './definitions';

type Notification = Pick<NotificationInput, 'notificationId' | 'userId' | 'type' | 'category' | 'metadata'> & { content: Content };

export function sendInputFor(
  n: Notification,
  targetId: string,
  { recordDeliveredAs, attemptOffset }: Pick<SendInput, 'recordDeliveredAs' | 'attemptOffset'> = {},
): SendInput {
  return {
    notificationId: n.notificationId,
    userId: n.userId,
    type: n.type,
    category: n.category,
    metadata: n.metadata,
    content: n.content,
    targetId,
    ...(recordDeliveredAs !== undefined ? { recordDeliveredAs } : {}),
    ...(attemptOffset ? { attemptOffset } : {}),
  };
}
