import type { Sql } from 'postgres';

/**
 * The postgres.js client drizzle should use, with every statement that has parameters sent as a
 * named prepared statement. drizzle runs its statements unprepared, and postgres.js then asks the
 * server for an unprepared statement's parameter types before sending it: two round trips per
 * statement. Prepared, the first use on a connection still describes; later uses are one round
 * trip, and PostgreSQL parses and plans them once. Herald's statements are a fixed set of texts, so
 * each connection's cache of them stays small.
 */
export function preparingStatements(client: Sql): Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: unknown[], options?: Record<string, unknown>) =>
          target.unsafe(query, params as never, { ...options, prepare: true });
      }
      // A transaction (and a savepoint in it) hands its callback a client of its own connection.
      if (property === 'begin' || property === 'savepoint') {
        const open = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) =>
          open.apply(
            target,
            args.map((arg) => (typeof arg === 'function' ? (inner: Sql) => (arg as (sql: Sql) => unknown)(preparingStatements(inner)) : arg)),
          );
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
