import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from './index';

// Helpers for the statements on the delivery path, written as flat SQL: building them with drizzle's
// query builder cost the worker more CPU than sending them (measured with --cpu-prof).

/** A jsonb parameter as the drivers expect it (the text of the JSON), or SQL null. */
export const json = (value: unknown) => (value == null ? null : JSON.stringify(value));

/** `execute` answers with the rows themselves (postgres.js) or wrapped in `rows` (PGlite). */
export type Rows<T> = T[] | { rows: T[] };
export function rowsOf<T>(result: Rows<T>): T[] {
  return Array.isArray(result) ? result : result.rows;
}

/** Runs a flat statement and answers its rows, whichever driver runs it. */
export async function query<T>(db: Executor, statement: SQL): Promise<T[]> {
  return rowsOf((await db.execute(statement)) as unknown as Rows<T>);
}

/**
 * A row of `table` that SQL built as JSON (`to_json(t)`), typed and converted as a select of that
 * table would give it. The two drivers convert column types differently; JSON text reads the same
 * through both, and each column's own mapping (dates, numbers, jsonb) does the rest.
 */
export function rowFromJson<T extends PgTable>(table: T, value: Record<string, unknown>): T['$inferSelect'] {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const raw = value[column.name];
    row[key] = raw == null ? null : column.mapFromDriverValue(raw);
  }
  return row as T['$inferSelect'];
}

/** `expression in (values…)`, false for no values. */
export const isOneOf = (expression: SQL, values: readonly string[]) =>
  values.length === 0 ? sql`false` : sql`${expression} in (${sql.join(values.map((v) => sql`${v}`), sql`, `)})`;

/**
 * The column list and a `select` of the values of one row of `table`, for an insert written as flat
 * SQL (`insert into t (columns) select values where … on conflict …`). Each value goes through its
 * column's own mapping and is cast to the column's type; columns missing from `row` take their defaults.
 */
export function rowValues<T extends PgTable>(table: T, row: T['$inferInsert']): { columns: SQL; values: SQL } {
  const given = Object.entries(getTableColumns(table)).filter(([key]) => (row as Record<string, unknown>)[key] !== undefined);
  return {
    columns: sql.raw(given.map(([, column]) => `"${column.name}"`).join(', ')),
    values: sql.join(
      given.map(([key, column]) => {
        const value = (row as Record<string, unknown>)[key];
        return sql`${value === null ? null : column.mapToDriverValue(value)}::${sql.raw(column.getSQLType())}`;
      }),
      sql`, `,
    ),
  };
}
