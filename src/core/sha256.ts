// sha256 of a text in one call. crypto.hash (Node 20.12+) makes no Hash object, which per item and per
// request (item ids, seeds) is most of the cost; older Node 20 releases get the same digest from createHash.
import crypto from 'node:crypto';

const oneShot = (crypto as { hash?: typeof crypto.hash }).hash;

/** sha256 of `text` (UTF-8), as lower-case hex. */
export function sha256Hex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/** sha256 of `text` (UTF-8), as its 32 bytes. */
export function sha256Bytes(text: string): Buffer {
  return oneShot ? oneShot('sha256', text, 'buffer') : crypto.createHash('sha256').update(text).digest();
}
