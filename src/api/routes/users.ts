import { Router } from 'express';
import { z } from 'zod';
import type { Database } from '../../db';
import { deleteTarget, upsertTarget } from '../../db/targets';
import { generateWebhookSecret, isWebhookSecret } from '../../channels/signature';
import { apiError } from '../errors';
import { identifier, parse } from '../validation';

const webhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'url must be an absolute http(s) URL' }),
    secret: z
      .string()
      .refine(isWebhookSecret, 'secret must be "whsec_" followed by at least 16 base64-encoded bytes')
      .optional(),
    label: z.string().max(100).optional(),
  })
  .strict();

const userIdParam = identifier('user id');

export function userRoutes({ db }: { db: Database }): Router {
  const router = Router();

  /** Registers a webhook URL for the user; answers with the signing secret receivers verify against. */
  router.post('/:userId/webhooks', async (req, res) => {
    const userId = parse(userIdParam, req.params.userId, 'user id');
    const body = parse(webhookSchema, req.body);
    const { row, created } = await upsertTarget(db, {
      userId,
      channel: 'webhook',
      address: body.url,
      // Without a secret of the client's own, a new endpoint gets a generated one and an existing one keeps its own.
      secrets: { signingSecret: body.secret ?? generateWebhookSecret() },
      keepExistingSecrets: !body.secret,
      label: body.label,
    });
    const secret = row.secrets?.signingSecret;
    res.status(created ? 201 : 200).json({ id: row.id, userId, url: row.address, label: row.label, secret });
  });

  router.delete('/:userId/webhooks/:targetId', async (req, res) => {
    const userId = parse(userIdParam, req.params.userId, 'user id');
    if (!(await deleteTarget(db, userId, 'webhook', req.params.targetId))) {
      throw apiError(404, 'target_not_found', `user ${userId} has no webhook ${req.params.targetId}`);
    }
    res.status(204).end();
  });

  return router;
}
