import { Router } from 'express';
import { z } from 'zod';
import type { Database } from '../../db';
import { listApiKeys, mintApiKey, revokeApiKey, saveApiKey, type ApiKeyRow } from '../../db/api-keys';
import { audited } from '../audit';
import { requesterOf, type Authenticator } from '../auth';
import { apiError } from '../errors';
import { documented, type Contract } from '../openapi';
import { apiKeySchema, createdApiKeySchema } from '../responses';
import { parse } from '../validation';

const createSchema = z
  .object({
    scope: z.enum(['client', 'admin'], { error: 'scope must be client or admin' }),
    name: z.string({ error: 'name must say who the key is for' }).min(1).max(100).regex(/[^ \t\n\r\f\v]/, 'name must say who the key is for'),
  })
  .strict();
const keyPath = z.object({ id: z.string().meta({ description: 'The key id, `key:` and 12 hex digits.' }) });

const CONTRACTS = {
  create: {
    summary: 'Make an API key',
    description: '`client` keys create, read, cancel and change notifications and manage recipients; `admin` keys may do everything. The key is in this answer only.',
    scope: 'admin',
    body: createSchema,
    responses: { 201: { description: 'The key, shown this once.', schema: createdApiKeySchema } },
  },
  list: {
    summary: 'API keys made through the API, revoked ones included',
    scope: 'admin',
    responses: { 200: { description: 'The keys, newest first, without the keys themselves.', schema: z.object({ items: z.array(apiKeySchema) }) } },
  },
  revoke: {
    summary: 'Revoke an API key',
    description: 'Refused from the next request in this process, and within 10 s in every other API process.',
    scope: 'admin',
    path: keyPath,
    responses: { 200: { description: 'The revoked key.', schema: apiKeySchema } },
    errors: { 404: 'No key with this id.' },
  },
} satisfies Record<string, Contract>;

const keyView = ({ digest: _digest, ...row }: ApiKeyRow) => row;

/** /v1/api-keys: keys besides the deployment's `API_KEYS`, each with a scope; every change is audited. */
export function apiKeyRoutes({ db, auth }: { db: Database; auth: Pick<Authenticator, 'forget'> }): Router {
  const router = Router();

  router.post('/', documented(CONTRACTS.create, async (req, res) => {
    const body = parse(createSchema, req.body);
    const minted = mintApiKey();
    const row = await audited(db, res, { action: 'api_key.create', subject: minted.id, change: body }, (tx) =>
      saveApiKey(tx, minted, { ...body, createdBy: requesterOf(res) }),
    );
    res.status(201).json({ ...keyView(row), key: minted.key });
  }));

  router.get('/', documented(CONTRACTS.list, async (_req, res) => {
    res.json({ items: (await listApiKeys(db)).map(keyView) });
  }));

  router.delete('/:id', documented(CONTRACTS.revoke, async (req, res) => {
    // Thrown inside the transaction: an unknown id leaves no audit entry.
    const revoked = await audited(db, res, { action: 'api_key.revoke', subject: req.params.id, change: {} }, async (tx) => {
      const row = await revokeApiKey(tx, req.params.id);
      if (!row) throw apiError(404, 'api_key_not_found', `no API key with id ${req.params.id}`);
      return row;
    });
    auth.forget();
    res.json(keyView(revoked));
  }));

  return router;
}
