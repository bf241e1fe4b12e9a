/**
 * Regenerates the field reference of docs/config.md from the RunConfig schema (the one place
 * where names, defaults and ranges are written). The prose around the markers is kept.
 * Usage: npm run docs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { RUN_SCHEMA } from '../src/core/config/run-config.ts';
import { renderSchemaDoc } from '../src/core/config/schema.ts';

const BEGIN = '<!-- BEGIN GENERATED: npm run docs -->';
const END = '<!-- END GENERATED -->';
const file = new URL('../docs/config.md', import.meta.url);
const doc = readFileSync(file, 'utf8');
const start = doc.indexOf(BEGIN);
const end = doc.indexOf(END);
if (start < 0 || end < start) throw new Error(`docs/config.md: markers ${BEGIN} ... ${END} not found`);
const table = [
  '| field | type and range | default | meaning |',
  '|---|---|---|---|',
  ...renderSchemaDoc(RUN_SCHEMA),
].join('\n');
writeFileSync(file, `${doc.slice(0, start + BEGIN.length)}\n${table}\n${doc.slice(end)}`);
