import { Router, type Request } from 'express';
import { apiError } from '../errors';
import { parse } from '../validation';
import { createNotification, type CreateDeps } from '../../notifications/create';
import { createNotificationSchema, type CreateNotificationRequest } from '../../notifications/request';
import { notificationDetail } from '../../notifications/view';

function idempotencyKeyOf(req: Request, body: CreateNotificationRequest): string {
  const header = req.get('Idempotency-Key')?.trim();
  if (header && body.idempotencyKey && header !== body.idempotencyKey) {
    throw apiError(400, 'idempotency_key_mismatch', 'the Idempotency-Key header and body field differ');
  }
  const key = header || body.idempotencyKey;
  if (!key) throw apiError(400, 'idempotency_key_missing', 'an Idempotency-Key header is required to create a notification');
  if (key.length > 255) throw apiError(400, 'idempotency_key_invalid', 'Idempotency-Key must be at most 255 characters');
  return key;
}

export function notificationRoutes(deps: CreateDeps): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const body = parse(createNotificationSchema, req.body);
    const { id, replay } = await createNotification(deps, body, idempotencyKeyOf(req, body));
    const detail = await notificationDetail(deps.db, id);
    if (replay) res.set('Idempotency-Replay', 'true');
    res.status(replay ? 200 : 202).location(`/v1/notifications/${id}`).json(detail);
  });

  router.get('/:id', async (req, res) => {
    const detail = await notificationDetail(deps.db, req.params.id);
    if (!detail) throw apiError(404, 'notification_not_found', `no notification with id ${req.params.id}`);
    res.json(detail);
  });

  return router;
}
