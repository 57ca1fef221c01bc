// TSIG (RFC 8945): signing our UPDATE with the shared key and checking that the answer was signed by
// the server with the same key, so a forged "NOERROR" cannot make us believe a record exists.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TSIG_ALGORITHMS } from '../../../../../shared/acme.js';
import { CLASS, encodeName, nameAt, TYPE, type ParsedMessage, type ResourceRecord } from './wire.js';

export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  /** The shared secret, decoded from the base64 the server's key block holds. */
  secret: Buffer;
}

/** The algorithm's name on the wire (RFC 8945 §6) and Node's digest for it. */
const ALGORITHMS: Record<TsigAlgorithm, { wire: string; digest: string }> = {
  'hmac-md5': { wire: 'hmac-md5.sig-alg.reg.int', digest: 'md5' },
  'hmac-sha1': { wire: 'hmac-sha1', digest: 'sha1' },
  'hmac-sha224': { wire: 'hmac-sha224', digest: 'sha224' },
  'hmac-sha256': { wire: 'hmac-sha256', digest: 'sha256' },
  'hmac-sha384': { wire: 'hmac-sha384', digest: 'sha384' },
  'hmac-sha512': { wire: 'hmac-sha512', digest: 'sha512' },
};

/** Seconds of clock difference the server may accept (RFC 8945 recommends 300). */
const FUDGE_S = 300;

/** TSIG error codes (RFC 8945 §5.3) as servers log them. */
export const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

/** The base64 secret of a key block, decoded; null when it is not base64. */
export function decodeTsigSecret(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) return null;
  const secret = Buffer.from(trimmed, 'base64');
  return secret.length > 0 ? secret : null;
}

function u48(value: number): Buffer {
  const out = Buffer.alloc(6);
  out.writeUIntBE(value, 0, 6);
  return out;
}

function u16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value, 0);
  return out;
}

/** The TSIG variables the MAC covers after the message (RFC 8945 §4.3.3). */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  const ttl = Buffer.alloc(4);
  return Buffer.concat([encodeName(key.name), u16(CLASS.ANY), ttl, encodeName(ALGORITHMS[key.algorithm].wire), u48(timeSigned), u16(fudge), u16(error), u16(other.length), other]);
}

/**
 * Signs `message` (its bytes as sent, without a TSIG record, ARCOUNT not yet counting it): returns
 * the TSIG record to append and the MAC (the answer's signature covers it).
 */
export function signMessage(message: Buffer, key: TsigKey, now = Date.now()): { record: ResourceRecord; mac: Buffer } {
  const timeSigned = Math.floor(now / 1000);
  const mac = createHmac(ALGORITHMS[key.algorithm].digest, key.secret)
    .update(message)
    .update(variables(key, timeSigned, FUDGE_S, 0, Buffer.alloc(0)))
    .digest();
  const data = Buffer.concat([encodeName(ALGORITHMS[key.algorithm].wire), u48(timeSigned), u16(FUDGE_S), u16(mac.length), mac, u16(message.readUInt16BE(0)), u16(0), u16(0)]);
  return { record: { name: key.name, type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data }, mac };
}

/** Appends a TSIG record to a message: the record last, ARCOUNT one more. */
export function withTsig(message: Buffer, record: ResourceRecord, encode: (record: ResourceRecord) => Buffer): Buffer {
  const out = Buffer.concat([message, encode(record)]);
  out.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return out;
}

export interface TsigVerdict {
  /** True when the answer carries a TSIG made with our key over these bytes. */
  signed: boolean;
  /** The TSIG error the server put in its record (BADSIG, BADKEY, BADTIME), when it did. */
  error: string | null;
}

/** Checks the answer's TSIG against our key and the request's MAC (RFC 8945 §5.3). Throws a RangeError when the record cannot be read. */
export function verifyAnswer(raw: Buffer, parsed: ParsedMessage, key: TsigKey, requestMac: Buffer, now = Date.now()): TsigVerdict {
  const last = parsed.additional.length - 1;
  const record = parsed.additional[last];
  if (!record || record.type !== TYPE.TSIG) return { signed: false, error: null };
  const data = record.data;
  // A cut-short record is named as such, not met as Node's "offset out of range" (the caller makes it a sentence).
  const need = (end: number) => {
    if (end > data.length) throw new RangeError(`the answer's TSIG record ends early: ${data.length} bytes, at least ${end} expected`);
  };
  const algorithm = nameAt(data, 0);
  let at = algorithm.end;
  need(at + 10);
  const timeSigned = data.readUIntBE(at, 6);
  const fudge = data.readUInt16BE(at + 6);
  const macSize = data.readUInt16BE(at + 8);
  at += 10;
  need(at + macSize + 6);
  const mac = data.subarray(at, at + macSize);
  at += macSize;
  const originalId = data.readUInt16BE(at);
  const errorCode = data.readUInt16BE(at + 2);
  const otherLength = data.readUInt16BE(at + 4);
  need(at + 6 + otherLength);
  const other = data.subarray(at + 6, at + 6 + otherLength);
  const error = errorCode === 0 ? null : (TSIG_ERRORS[errorCode] ?? `TSIG error ${errorCode}`);
  if (macSize === 0 || record.name.toLowerCase() !== key.name.toLowerCase().replace(/\.$/, '') || algorithm.name.toLowerCase() !== ALGORITHMS[key.algorithm].wire) {
    return { signed: false, error };
  }
  // The MAC covers the answer as the server built it: without its TSIG record, ARCOUNT one less, the original id.
  const body = Buffer.from(raw.subarray(0, parsed.additionalOffsets[last]));
  body.writeUInt16BE(originalId, 0);
  body.writeUInt16BE(parsed.additional.length - 1, 10);
  const expected = createHmac(ALGORITHMS[key.algorithm].digest, key.secret)
    .update(u16(requestMac.length))
    .update(requestMac)
    .update(body)
    .update(variables(key, timeSigned, fudge, errorCode, other))
    .digest();
  const macOk = mac.length === expected.length && timingSafeEqual(mac, expected);
  const timeOk = Math.abs(Math.floor(now / 1000) - timeSigned) <= fudge;
  return { signed: macOk && timeOk, error };
}
