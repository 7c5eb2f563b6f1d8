import { Router } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { apiError } from '../errors';
import { documented, type Contract } from '../openapi';
import { parse } from '../validation';

// Temporal's remote codec protocol (what the Web UI and `temporal --codec-endpoint` call): payloads
// as JSON, metadata values and data in base64.
const payloadJson = z
  .object({
    metadata: z.record(z.string(), z.base64()).optional(),
    data: z.base64().optional(),
  })
  .meta({ id: 'Payload' });
const payloadsSchema = z.object({ payloads: z.array(payloadJson).max(1000) });

const codecContract = (direction: 'encode' | 'decode'): Contract => ({
  scope: 'admin',
  summary: `${direction === 'encode' ? 'Encrypt' : 'Decrypt'} Temporal payloads (remote codec for the Temporal UI and CLI)`,
  description:
    "Point the Temporal Web UI's codec endpoint, or `temporal … --codec-endpoint`, at `/v1/codec` to see encrypted payloads decoded. Without PAYLOAD_ENCRYPTION_KEYS payloads pass through unchanged.",
  body: payloadsSchema,
  responses: { 200: { description: 'The payloads, in the same order.', schema: payloadsSchema } },
  errors: { 422: 'A payload was encrypted with a key this deployment does not have, or does not decrypt.' },
});

const toPayload = ({ metadata, data }: z.output<typeof payloadJson>): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});
const toJson = ({ metadata, data }: Payload) => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
});

/** POST /v1/codec/encode and /decode: the payload codec Herald's client and worker use, for operators' tools. */
export function codecRoutes({ codec }: { codec?: PayloadCodec }): Router {
  const router = Router();
  for (const direction of ['encode', 'decode'] as const) {
    router.post(`/${direction}`, documented(codecContract(direction), async (req, res) => {
      const payloads = parse(payloadsSchema, req.body).payloads.map(toPayload);
      let out: Payload[];
      try {
        out = codec ? await codec[direction](payloads) : payloads;
      } catch (err) {
        throw apiError(422, 'codec_failed', `payloads could not be ${direction}d: ${(err as Error).message}`);
      }
      res.json({ payloads: out.map(toJson) });
    }));
  }
  return router;
}
