import { Router } from 'express';
import { z } from 'zod';
import type { Database } from '../../db';
import { mandatoryAmong, optOutOfCategory } from '../../db/recipients';
import type { Logger } from '../../logger';
import { recheckDeferred } from '../../notifications/recheck';
import type { TemporalGateway } from '../../temporal/gateway';
import type { UnsubscribeClaim, UnsubscribeLinks } from '../../unsubscribe';
import { apiError } from '../errors';
import { documented, type Contract } from '../openapi';
import { parse } from '../validation';

export interface UnsubscribeRouteDeps {
  db: Database;
  temporal: TemporalGateway;
  log: Logger;
  /** Undefined when email is off: every link is then unknown. */
  unsubscribeLinks?: UnsubscribeLinks;
}

const tokenQuery = z.object({ token: z.string().min(1, 'token is required') }).strip();
const optedOutSchema = z.object({ userId: z.string(), category: z.string(), optedOut: z.literal(true) });
const linkErrors = {
  404: 'The link is not one Herald signed (`unsubscribe_link_invalid`).',
  410: 'The link has expired (`unsubscribe_link_expired`); a newer email carries a fresh one.',
};

const CONTRACTS = {
  page: {
    summary: 'The page an email\'s unsubscribe link opens: it asks before opting out',
    description: 'Public: the signed token in the link is the authority. A GET never changes anything (RFC 8058), so link scanners cannot unsubscribe anyone.',
    query: tokenQuery,
    responses: { 200: { description: 'A page with one button that POSTs the same link.', schema: z.string(), contentType: 'text/html' } },
    errors: linkErrors,
  },
  optOut: {
    summary: 'One-click unsubscribe (RFC 8058): opts the recipient out of the email\'s category',
    description: 'What mail clients POST (`List-Unsubscribe=One-Click`) and the page\'s button sends; any body is ignored. Repeating it changes nothing.',
    query: tokenQuery,
    responses: { 200: { description: 'Opted out.', schema: optedOutSchema } },
    errors: { ...linkErrors, 422: 'The category has become mandatory (`category_mandatory`): it cannot be opted out of.' },
  },
} satisfies Record<string, Contract>;

/** `/unsubscribe?token=…` — public, outside API keys: the link in the email is its own authority. */
export function unsubscribeRoutes(deps: UnsubscribeRouteDeps): Router {
  const router = Router();
  const claimOf = (query: unknown): UnsubscribeClaim => {
    const { token } = parse(tokenQuery, query, 'query');
    const claim = deps.unsubscribeLinks?.verify(token);
    if (claim === 'expired') throw apiError(410, 'unsubscribe_link_expired', 'this unsubscribe link has expired; use the one in a newer email');
    if (!claim) throw apiError(404, 'unsubscribe_link_invalid', 'this is not a valid unsubscribe link');
    return claim;
  };

  router.get('/', documented(CONTRACTS.page, (req, res) => {
    const { category } = claimOf(req.query);
    res.type('html').send(confirmationPage(category));
  }));

  router.post('/', documented(CONTRACTS.optOut, async (req, res) => {
    const { userId, category } = claimOf(req.query);
    if ((await mandatoryAmong(deps.db, [category])).length > 0) {
      throw apiError(422, 'category_mandatory', `${category} is mandatory: a recipient cannot opt out`, { categories: [category] });
    }
    await optOutOfCategory(deps.db, userId, category);
    // Notifications held back (quiet hours, throttle) look again now, and end opted out.
    await recheckDeferred(deps, { userId });
    res.json({ userId, category, optedOut: true });
  }));
  return router;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The form posts to the page's own URL, token included. */
function confirmationPage(category: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body><form method="post"><p>Stop emails about <strong>${escapeHtml(category)}</strong>?</p><button type="submit">Unsubscribe</button></form></body></html>`;
}
