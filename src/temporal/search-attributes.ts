import type { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions';
import type { Logger } from '../logger';

const { IndexedValueType } = temporal.api.enums.v1;
const indexedType = (type: SearchAttributeType) =>
  IndexedValueType[`INDEXED_VALUE_TYPE_${type}` as keyof typeof IndexedValueType];

/**
 * Registers Herald's search attributes that the namespace lacks. `start-dev --search-attribute` only
 * applies when the namespace is created, so an existing SQLite file (or a real cluster) needs this.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string, log: Logger): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((key) => !customAttributes?.[key.name]);
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedType(key.type)])),
  });
  log.info({ added: missing.map((k) => k.name) }, 'registered search attributes');
}

/** The `--search-attribute Name=Type` flags for `temporal server start-dev` (Type as the CLI spells it: Keyword). */
export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${key.type.charAt(0)}${key.type.slice(1).toLowerCase()}`,
  ]);
}
