/**
 * The IDX file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), plain or
 * gzip-compressed (recognised by its magic bytes, whatever the file name):
 *   bytes 0-1  zero
 *   byte  2    data type (0x08 unsigned byte; the only type image and label files use)
 *   byte  3    number of dimensions n
 *   then n big-endian 32-bit sizes, then the data, row-major.
 * Every violation is an error naming the file and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.ts';

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

export interface IdxArray {
  dims: number[];
  /** the data, row-major */
  data: Uint8Array;
}

function hex(v: number, digits: number): string {
  return `0x${v.toString(16).padStart(digits, '0')}`;
}

/** Whether the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses an IDX file's bytes (gunzipping them first when they are gzip); `file` names it in errors. */
export function parseIdx(raw: Uint8Array, file: string): IdxArray {
  // plain Uint8Array views (not Buffers), so the core's loops see one array type
  let bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (isGzip(raw)) {
    try {
      const b = gunzipSync(raw);
      bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      throw new DataError(`${file}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4)
    throw new DataError(`${file}: ${bytes.length} bytes, too short for an IDX header (4 bytes at least)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = (((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0)
      .toString(16)
      .padStart(8, '0');
    throw new DataError(
      `${file}: bad magic number 0x${magic}: an IDX file starts with two zero bytes (is it an IDX file?)`,
    );
  }
  const type = bytes[2];
  if (type !== 0x08) {
    const name = TYPE_NAMES[type] ? `${TYPE_NAMES[type]} data` : 'an unknown data type';
    throw new DataError(
      `${file}: data type ${hex(type, 2)} (${name}) is not supported; expected 0x08 (unsigned bytes)`,
    );
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new DataError(`${file}: the header gives 0 dimensions`);
  const header = 4 + 4 * ndims;
  if (bytes.length < header)
    throw new DataError(
      `${file}: truncated header: ${ndims} dimensions need ${header} bytes, the file has ${bytes.length}`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let k = 0; k < ndims; k++) {
    const d = view.getUint32(4 + 4 * k, false);
    if (d === 0) throw new DataError(`${file}: dimension ${k} has size 0`);
    dims.push(d);
    count *= d;
  }
  const have = bytes.length - header;
  if (have !== count) {
    const what = have < count ? 'truncated' : 'trailing bytes';
    throw new DataError(
      `${file}: ${what}: dimensions ${dims.join(' x ')} need ${count} data bytes, the file has ${have}`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads and parses an IDX file. */
export function readIdxFile(file: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new DataError(`${file}: cannot read (${(e as Error).message})`);
  }
  return parseIdx(raw, file);
}

export interface IdxImages {
  n: number;
  height: number;
  width: number;
  /** n x height x width bytes */
  pixels: Uint8Array;
}

/** An image file: 3 dimensions (images x rows x columns). */
export function readIdxImages(file: string): IdxImages {
  const { dims, data } = readIdxFile(file);
  if (dims.length !== 3)
    throw new DataError(
      `${file}: an image file has 3 dimensions (images x rows x columns), this one has ${dims.length} ` +
        `(${dims.join(' x ')})`,
    );
  return { n: dims[0], height: dims[1], width: dims[2], pixels: data };
}

/** A label file: 1 dimension. */
export function readIdxLabels(file: string): Uint8Array {
  const { dims, data } = readIdxFile(file);
  if (dims.length !== 1)
    throw new DataError(`${file}: a label file has 1 dimension, this one has ${dims.length} (${dims.join(' x ')})`);
  return data;
}

/** Encodes an unsigned-byte IDX file (for tests and tools). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
