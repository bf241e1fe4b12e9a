/** Prepared statements cached by their SQL text: preparing costs more than running a small one. */
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.ts';

export class StatementCache {
  private readonly db: Db;
  private readonly statements = new Map<string, Statement>();

  constructor(db: Db) {
    this.db = db;
  }

  get(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }
}
