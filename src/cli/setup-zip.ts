// Extracts one member of a zip (a wheel) by streaming it, with no `unzip` binary: a fresh machine
// may lack one, and Python's zipfile would need a second interpreter round-trip. Written by hand
// because only the central directory, one local header and raw inflate are needed.
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createInflateRaw, crc32 } from "node:zlib";

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

export class ZipError extends Error {}

interface Entry {
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

async function findEntry(zipPath: string, member: string): Promise<Entry> {
  const file = await open(zipPath, "r");
  try {
    const { size } = await file.stat();
    if (size < EOCD_MIN) throw new ZipError(`${zipPath} is too small to be a zip file`);
    const tailLength = Math.min(size, EOCD_MIN + MAX_COMMENT);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - EOCD_MIN; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipError(`${zipPath} is not a zip file (no end-of-central-directory record)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw new ZipError(`${zipPath} is a ZIP64 archive, which is not supported`);
    }
    if (cdOffset + cdSize > size) throw new ZipError(`${zipPath} is truncated (central directory past the end)`);
    const cd = Buffer.alloc(cdSize);
    await file.read(cd, 0, cdSize, cdOffset);
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) {
        throw new ZipError(`${zipPath} has a corrupt central directory`);
      }
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      const name = cd.toString("utf8", p + 46, p + 46 + nameLength);
      if (name === member) {
        const entry: Entry = {
          method: cd.readUInt16LE(p + 10),
          crc: cd.readUInt32LE(p + 16),
          compressedSize: cd.readUInt32LE(p + 20),
          size: cd.readUInt32LE(p + 24),
          localHeaderOffset: cd.readUInt32LE(p + 42),
        };
        const local = Buffer.alloc(30);
        await file.read(local, 0, 30, entry.localHeaderOffset);
        if (local.readUInt32LE(0) !== LOCAL_SIG) throw new ZipError(`${zipPath} has a corrupt entry for ${member}`);
        // The data starts after the *local* header, whose extra field may differ from the central one.
        entry.localHeaderOffset += 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        if (entry.localHeaderOffset + entry.compressedSize > size) {
          throw new ZipError(`${zipPath} is truncated (${member} runs past the end)`);
        }
        return entry;
      }
      p += 46 + nameLength + extraLength + commentLength;
    }
    throw new ZipError(`${zipPath} does not contain ${member}`);
  } finally {
    await file.close();
  }
}

/** Streams `member` of `zipPath` into `destPath`, checking its size and CRC-32; returns the size. */
export async function extractZipMember(zipPath: string, member: string, destPath: string): Promise<number> {
  const entry = await findEntry(zipPath, member);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new ZipError(`${zipPath}: ${member} uses compression method ${entry.method} (only stored and deflate are supported)`);
  }
  let crc = 0;
  let written = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      crc = crc32(chunk, crc);
      written += chunk.length;
      done(null, chunk);
    },
  });
  const source =
    entry.compressedSize === 0
      ? [] // createReadStream's `end` is inclusive, so an empty member cannot be expressed as a range.
      : createReadStream(zipPath, {
          start: entry.localHeaderOffset,
          end: entry.localHeaderOffset + entry.compressedSize - 1,
        });
  try {
    if (entry.method === 8) await pipeline(source, createInflateRaw(), check, createWriteStream(destPath));
    else await pipeline(source, check, createWriteStream(destPath));
  } catch (err) {
    if (err instanceof ZipError) throw err;
    throw new ZipError(`${zipPath}: ${member} could not be decompressed (${(err as Error).message})`);
  }
  if (written !== entry.size) {
    throw new ZipError(`${zipPath}: ${member} decompressed to ${written} bytes, expected ${entry.size}`);
  }
  if (crc >>> 0 !== entry.crc) throw new ZipError(`${zipPath}: ${member} failed its CRC-32 check`);
  return written;
}
