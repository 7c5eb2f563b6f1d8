// Signals, updates and the query of a notification. Handlers only change state; the main loop in
// notification.ts records every change, so Postgres has a single writer per notification.
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
  type CancelReason,
  type Change,
  type NotificationInput,
} from '../definitions';
import { isPending, isSettled, statusView, tooLate, type NotificationState } from './state';
import { isInlineContent, isInstant, isNotificationId, isStorableText } from '../validate';


export function installHandlers(input: NotificationInput, s: NotificationState): void {
  const open = () => isPending(s) && s.cancel === undefined;
  const requireOpen = () => {
    if (!open()) throw tooLate(s);
  };

  function requestCancel(reason: CancelReason, replacedBy?: string, note?: string) {
    if (open()) s.cancel = { reason, replacedBy, note };
  }

  /** Applies a change to the pending notification; returns the version the main loop will record. */
  function applyChange(change: Change): number {
    if (change.scheduledAt) {
      s.scheduledAt = new Date(change.scheduledAt).toISOString();
      s.dueAt = Date.parse(change.scheduledAt);
    }
    if (change.content) s.content = change.content;
    // Merge only what this change sets: a replace must not erase an unrecorded reschedule.
    s.unrecorded = {
      ...s.unrecorded,
      ...(change.scheduledAt ? { scheduledAt: s.scheduledAt } : {}),
      ...(change.content ? { content: change.content } : {}),
    };
    s.wake += 1;
    return (s.changeVersion += 1);
  }

  setHandler(statusQuery, () => statusView(input, s));

  // Signals come from operators (`temporal workflow signal`) and from newer notifications; a late or
  // malformed one is logged and ignored, since a signal has no one to answer.
  setHandler(cancelSignal, (note?: string) => requestCancel('requested', undefined, isStorableText(note, 500) ? note : undefined));
  setHandler(supersedeSignal, (byId: string) => {
    if (isNotificationId(byId)) requestCancel('replaced', byId);
    else log.warn('supersede signal ignored: not a notification id');
  });
  setHandler(rescheduleSignal, (scheduledAt: string) => {
    if (open() && isInstant(scheduledAt)) applyChange({ scheduledAt });
    else log.warn('reschedule signal ignored', { status: s.status });
  });
  setHandler(replaceSignal, (content, scheduledAt) => {
    if (open() && isInlineContent(content) && (scheduledAt === undefined || isInstant(scheduledAt))) {
      applyChange({ content, ...(scheduledAt ? { scheduledAt } : {}) });
    } else log.warn('replace signal ignored', { status: s.status });
  });
  setHandler(recheckSignal, () => {
    if (s.status !== 'DEFERRED' || !open()) return;
    s.recheckRequested = true;
    s.dueAt = Date.now();
    s.wake += 1;
  });

  // Updates answer only once the outcome is recorded in Postgres, so the API can return the row.
  setHandler(
    cancelUpdate,
    // The actor the API sends from V5 on is not recorded by this frozen version.
    async (note: string | null, _actor?: string) => {
      requestCancel('requested', undefined, note ?? undefined);
      await condition(() => isSettled(s));
      return statusView(input, s);
    },
    // A cancel already under way (supersede, operator signal) is no reason to answer "too late": wait for it.
    {
      validator: (_note: string | null, _actor?: string) => {
        if (!isPending(s)) throw tooLate(s);
      },
    },
  );
  setHandler(
    changeUpdate,
    async (change: Change, _actor?: string) => {
      const version = applyChange(change);
      await condition(() => s.recordedChangeVersion >= version || !isPending(s));
      return statusView(input, s);
    },
    {
      validator: (change: Change, _actor?: string) => {
        requireOpen();
        if (!change || (!change.content && !change.scheduledAt)) throw new Error('a change needs scheduledAt or content');
        if (change.scheduledAt !== undefined && !isInstant(change.scheduledAt)) throw new Error('scheduledAt is not an ISO-8601 instant with a zone');
      },
    },
  );
}
