// What the Temporal UI shows about a notification, in words: the workflow's summary and details (set
// when it starts), the summary of the timer it sleeps on, and its current details (the live "why is
// it waiting"). Built the same way by the API (start) and the workflow (timers, details):
// deterministic string work only, no time-zone maths (instants stay in UTC).
import type { Content, NotificationInput, StatusView } from './definitions';

const SUMMARY_LIMIT = 200;

const shorten = (text: string, limit: number) => (text.length <= limit ? text : `${text.slice(0, limit - 1)}…`);

/** What the notification says, in a few words: its title, or its template's key. Never its body. */
function contentLabel(content: Content): string {
  if ('template' in content) return `template ${content.template.key}${content.template.locale ? ` (${content.template.locale})` : ''}`;
  return content.title ? `"${content.title}"` : '(no title)';
}

/** One line for the workflow list: `webhook, fcm → user-42 · reminder: "Time to sleep"`. */
export function notificationSummary(input: Pick<NotificationInput, 'channels' | 'userId' | 'type' | 'content'>): string {
  return shorten(`${input.channels.join(', ')} → ${input.userId} · ${input.type}: ${contentLabel(input.content)}`, SUMMARY_LIMIT);
}

/** The workflow's details (Markdown): what was asked for, as the API accepted it. */
export function notificationDetails(input: NotificationInput): string {
  const line = (label: string, value: string | undefined) => (value ? [`**${label}** ${value}`] : []);
  return [
    ...line('Notification', `\`${input.notificationId}\` for \`${input.userId}\``),
    ...line('Type', `\`${input.type}\`, category \`${input.category}\``),
    ...line('Due', input.scheduledAt),
    ...line('Expires', input.expiresAt),
    ...line('Channels', `${input.channels.join(', ')} (${input.routing === 'fallback' ? 'first that delivers' : 'all'})`),
    ...line('Content', contentLabel(input.content)),
    ...line('Collapse key', input.collapseKey && `\`${input.collapseKey}\``),
    ...line('Redriven', input.attemptOffset ? `after ${input.attemptOffset} earlier attempts` : undefined),
    `The transition and attempt log: \`GET /v1/notifications/${input.notificationId}\``,
  ].join('\n\n');
}

/** The summary of the timer a pending notification sleeps on. */
export function waitSummary(view: Pick<StatusView, 'phase' | 'nextWakeAt' | 'deferReason'>): string {
  if (view.phase === 'DEFERRED') return `deferred (${view.deferReason ?? 'unknown'}) until ${view.nextWakeAt}`;
  return `until ${view.nextWakeAt} (scheduledAt)`;
}

/** The workflow's current details (Markdown): where the notification stands and what it waits for. */
export function liveDetails(view: StatusView): string {
  const delivered = view.targets.filter((t) => t.outcome === 'delivered').length;
  switch (view.phase) {
    case 'SCHEDULED':
      return `**SCHEDULED**: sleeping until ${view.nextWakeAt}, then the due-time checks (expiry, opt-out, recent activity, delivery switch, quiet hours, throttle) decide.`;
    case 'DEFERRED':
      return `**DEFERRED** (${view.deferReason}): the checks said not yet; they run again at ${view.nextWakeAt}.`;
    case 'SENDING':
      return `**SENDING** since ${view.sendingStartedAt}: ${delivered} of ${view.targets.length} targets done so far; pending sends show their attempts and last failure.`;
    default:
      return `**${view.phase}**${view.reason ? ` (${view.reason})` : ''}${view.targets.length ? `: delivered to ${delivered} of ${view.targets.length} targets` : ''}${view.replacedBy ? `, replaced by \`${view.replacedBy}\`` : ''}.`;
  }
}
