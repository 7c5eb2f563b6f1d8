import type { RequestHandler } from 'express';
import { isStorable } from '../../workflows/validate';
import { apiError } from './errors';

// Postgres text can hold neither NUL nor a lone UTF-16 surrogate. Refusing them here, once for every
// route, beats a 500 from the database, or worse, a workflow whose recording activity can never succeed.
const unstorable = (text: string) => !isStorable(text);

const MAX_DEPTH = 32;

/** Where in `value` an unstorable string sits; iterative, so a hostile nesting depth cannot blow the stack. */
function findUnstorable(value: unknown, where: string): string | undefined {
  const stack: Array<[unknown, string, number]> = [[value, where, 0]];
  while (stack.length > 0) {
    const [item, at, depth] = stack.pop()!;
    if (typeof item === 'string') {
      if (unstorable(item)) return at;
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (depth >= MAX_DEPTH) throw apiError(400, 'invalid_body', `${at} nests deeper than ${MAX_DEPTH} levels`);
    for (const [key, child] of Object.entries(item)) {
      if (unstorable(key)) return `${at} (a key)`;
      stack.push([child, Array.isArray(item) ? `${at}[${key}]` : `${at}.${key}`, depth + 1]);
    }
  }
  return undefined;
}

/** Refuses paths that do not percent-decode, and NUL bytes or unpaired surrogates in the path, query or body. */
export const rejectUnstorableText: RequestHandler = (req, _res, next) => {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    return next(apiError(400, 'invalid_path', 'the request path is not valid percent-encoding'));
  }
  if (unstorable(path)) return next(apiError(400, 'invalid_path', 'the request path contains a NUL byte or an unpaired surrogate'));
  let bad: string | undefined;
  try {
    bad = findUnstorable(req.query, 'query') ?? findUnstorable(req.body, 'body');
  } catch (err) {
    return next(err);
  }
  if (bad) return next(apiError(400, 'invalid_text', `${bad} contains a NUL byte or an unpaired surrogate`, { field: bad }));
  next();
};
