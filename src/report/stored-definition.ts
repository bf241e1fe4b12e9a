/**
 * What a sweep's definition, as recorded in the database, tells the reports: its default view
 * (`view:`) and the papers' numbers (`reference:`). A recorded definition these cannot be read
 * from is a ReportError naming the database, the sweep and the field.
 */
import type { Db } from '../store/open.ts';
import { sweepDetails } from '../store/results-read.ts';
import { type ReferenceCell, referencesOfStoredDefinition } from '../sweep/reference.ts';
import { type SweepView, viewOfStoredDefinition } from '../sweep/view.ts';
import { ReportError } from './errors.ts';

function unreadable(db: Db, sweepName: string): (path: string, message: string) => never {
  return (path, message) => {
    throw new ReportError(`${db.name}: sweep ${sweepName}: the recorded definition's ${path}: ${message}`);
  };
}

/** The view recorded with a sweep's definition (null when it has none). */
export function storedView(db: Db, sweepId: number, sweepName: string): SweepView | null {
  return viewOfStoredDefinition(sweepDetails(db, sweepId).spec_json, unreadable(db, sweepName));
}

/** The papers' numbers recorded with a sweep's definition (none when it has none). */
export function storedReferences(db: Db, sweepId: number, sweepName: string): ReferenceCell[] {
  return referencesOfStoredDefinition(sweepDetails(db, sweepId).spec_json, unreadable(db, sweepName));
}
