// The first workflow version plans its targets in an activity of its own before the fan-out.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { DATABASE_ACTIVITY } from '../activity-options';
import type { NotificationInput, TargetResult } from '../definitions';
import { sendPlanned } from '../fan-out';

const planning = proxyActivities<Activities>(DATABASE_ACTIVITY);

export async function sendToTargets(input: NotificationInput, onResult: (result: TargetResult) => void): Promise<TargetResult[]> {
  const plan = await planning.planDelivery(input.userId, input.channels);
  return (await sendPlanned(input, plan, { onResult })).results;
}
