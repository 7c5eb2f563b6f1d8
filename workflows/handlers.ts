// Signals, updates and the query of a notification. Handlers never write anything themselves: they
// queue a command, and the main loop (notification.ts) records it and answers, in arrival order —
// so Postgres has one writer per notification and every answer says what actually happened.
import { condition, log, setHandler } from '@temporalio/workflow';
import {
  cancelSignal,
  cancelUpdate,
  changeUpdate,
  recheckSignal,
  replaceSignal,
  rescheduleSignal,
  statusQuery,
  supersedeSignal,
  type Change,
  type NotificationInput,
  type StatusView,
} from './definitions';
import { isPending, statusView, tooLate, type Command, type Reply, type RunState } from './state';
import { isInlineContent, isInstant, isNotificationId, isStorableText } from './validate';

/** An actor as the API sends it (an API key id); anything else is dropped rather than recorded. */
const actorOf = (actor: unknown) => (isStorableText(actor, 100) ? actor : undefined);

export function installHandlers(input: NotificationInput, s: RunState): void {
  /** Still open to changes: pending, and no cancel on its way. */
  const open = () => isPending(s) && !s.cancelling;

  function enqueue(command: Command): Command {
    if (command.kind === 'cancel') s.cancelling = true;
    s.inbox.push(command);
    return command;
  }

  /** Waits until the main loop has recorded the command's outcome; fails with its refusal. */
  async function answer(command: Command): Promise<StatusView> {
    const reply: Reply = { settled: false };
    command.reply = reply;
    enqueue(command);
    await condition(() => reply.settled);
    if (reply.failure) throw reply.failure;
    return statusView(input, s);
  }

  setHandler(statusQuery, () => statusView(input, s));

  // Signals come from operators (`temporal workflow signal`) and from newer notifications; a late or
  // malformed one is logged and ignored, since a signal has no one to answer.
  setHandler(cancelSignal, (note?: string) => {
    if (isPending(s)) enqueue({ kind: 'cancel', reason: 'requested', note: isStorableText(note, 500) ? note : undefined });
  });
  setHandler(supersedeSignal, (byId: string) => {
    if (!isNotificationId(byId)) log.warn('supersede signal ignored: not a notification id');
    else if (isPending(s)) enqueue({ kind: 'cancel', reason: 'replaced', replacedBy: byId });
  });
  setHandler(rescheduleSignal, (scheduledAt: string) => {
    if (open() && isInstant(scheduledAt)) enqueue({ kind: 'change', change: { scheduledAt } });
    else log.warn('reschedule signal ignored', { status: s.status });
  });
  setHandler(replaceSignal, (content, scheduledAt) => {
    if (open() && isInlineContent(content) && (scheduledAt === undefined || isInstant(scheduledAt))) {
      enqueue({ kind: 'change', change: { content, ...(scheduledAt ? { scheduledAt } : {}) } });
    } else log.warn('replace signal ignored', { status: s.status });
  });
  setHandler(recheckSignal, () => {
    if (s.status === 'DEFERRED' && open()) enqueue({ kind: 'recheck' });
  });

  // Updates answer only once the outcome is recorded in Postgres, so the API can return the row.
  setHandler(
    cancelUpdate,
    // Cancelling a cancelled notification changes nothing and is not an error.
    (note: string | null, actor?: string) =>
      s.status === 'CANCELLED'
        ? Promise.resolve(statusView(input, s))
        : answer({ kind: 'cancel', reason: 'requested', note: isStorableText(note, 500) ? note : undefined, actor: actorOf(actor) }),
    {
      validator: (_note: string | null, _actor?: string) => {
        if (!isPending(s) && s.status !== 'CANCELLED') throw tooLate(s);
      },
    },
  );
  setHandler(changeUpdate, (change: Change, actor?: string) => answer({ kind: 'change', change, actor: actorOf(actor) }), {
    validator: (change: Change, _actor?: string) => {
      if (!open()) throw tooLate(s);
      if (!change || (!change.content && !change.scheduledAt)) throw new Error('a change needs scheduledAt or content');
      if (change.scheduledAt !== undefined && !isInstant(change.scheduledAt)) throw new Error('scheduledAt is not an ISO-8601 instant with a zone');
    },
  });
}
