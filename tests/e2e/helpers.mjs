// Helpers shared by the e2e test files (not a test file itself: run.sh runs *.test.mjs).
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

/** True when the PNG has content: a blank (single-colour) capture filters to almost all zeros. */
export function hasContent(png) {
  const chunks = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString("ascii", at + 4, at + 8) === "IDAT") chunks.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(chunks));
  let nonZero = 0;
  for (const byte of pixels) if (byte !== 0) nonZero++;
  return nonZero / pixels.length > 0.005;
}

/** Saves a screenshot of the window as `<dir>/<name>.png`, after the last render settled;
 *  fails on a blank capture. */
export async function saveShot(session, dir, name) {
  mkdirSync(dir, { recursive: true });
  // Let the last React render and layout settle.
  await session.execute("return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))");
  const png = await session.screenshot();
  assert.equal(png.subarray(1, 4).toString(), "PNG", "screenshot is a PNG");
  assert.ok(hasContent(png), `screenshot ${name} is blank`);
  writeFileSync(join(dir, `${name}.png`), png);
}
