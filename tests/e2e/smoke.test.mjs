// Smoke test of the real desktop window: launch the built app through tauri-driver,
// see the frame, switch language, visit pages, take screenshots.
//
// Run through tests/e2e/run.sh, which starts Xvfb and tauri-driver and sets:
//   WEBDRIVER_URL      tauri-driver's address
//   FEEDESK_APP        absolute path of the built app binary
//   FEEDESK_DATA_DIR   the temp data folder the app was started with
//   SCREENSHOT_DIR     where screenshots go
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { after, before, describe, test } from "node:test";

import { Session, waitFor, waitForDriver } from "./webdriver.mjs";

const driverUrl = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const app = process.env.FEEDESK_APP;
const dataDir = process.env.FEEDESK_DATA_DIR;
const screenshotDir = process.env.SCREENSHOT_DIR ?? new URL("./screenshots", import.meta.url).pathname;

let session;

/** True when the PNG has content: a blank (single-colour) capture filters to almost all zeros. */
function hasContent(png) {
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

async function shot(name) {
  mkdirSync(screenshotDir, { recursive: true });
  const png = await session.screenshot();
  assert.equal(png.subarray(1, 4).toString(), "PNG", "screenshot is a PNG");
  assert.ok(hasContent(png), `screenshot ${name} is blank`);
  writeFileSync(join(screenshotDir, `${name}.png`), png);
}

/** The visible label of a nav item (without its icon). */
async function navText(id) {
  await session.byTestId(`nav-${id}`);
  return (await session.find(`[data-testid="nav-${id}"] .nav-label`)).text();
}

describe("desktop window", () => {
  before(async () => {
    assert.ok(app, "FEEDESK_APP must point at the built app binary");
    assert.ok(dataDir, "FEEDESK_DATA_DIR must be a temp folder (never a user's data)");
    await waitForDriver(driverUrl);
    session = await Session.start(driverUrl, { browserName: "wry", "tauri:options": { application: app } });
  });

  after(async () => {
    if (session) await session.end().catch(() => {});
  });

  test("opens on the dashboard, in Chinese, with the app info from the core", async () => {
    await session.byTestId("nav-dashboard", 30000);
    assert.equal(await session.title(), "FeeDesk");
    assert.equal(await navText("dashboard"), "概览");
    assert.equal(await navText("settings"), "设置");
    for (const id of ["org", "members", "classes", "fees", "bills", "receipts", "reminders", "reconcile", "reports"]) {
      await session.byTestId(`nav-${id}`);
    }
    const shownDir = await (await session.byTestId("app-info-data-dir")).text();
    assert.equal(shownDir, dataDir, "the app uses the data folder it was given");
    assert.equal(await (await session.byTestId("app-info-name")).text(), "FeeDesk");
    assert.match(await (await session.byTestId("app-info-version")).text(), /^\d+\.\d+\.\d+/);
    await shot("01-dashboard-zh");
  });

  test("switches to English and back, and remembers the choice", async () => {
    await (await session.byTestId("lang-toggle")).click();
    await waitFor(async () => (await navText("dashboard")) === "Dashboard", { what: "English nav" });
    assert.equal(await navText("reconcile"), "Reconciliation");
    assert.equal(await session.execute("return localStorage.getItem('feedesk.lang')"), "en");
    await shot("02-dashboard-en");

    // Reload the page: a fresh document must come back in English (from localStorage).
    await session.execute("window.__beforeReload = true; setTimeout(() => location.reload(), 0)");
    await waitFor(async () => (await session.execute("return window.__beforeReload === undefined")) === true, {
      timeoutMs: 20000,
      what: "the page to reload",
    });
    await waitFor(async () => (await navText("dashboard")) === "Dashboard", { what: "English after reload" });

    await (await session.byTestId("lang-toggle")).click();
    await waitFor(async () => (await navText("dashboard")) === "概览", { what: "Chinese nav" });
  });

  test("every other page says honestly that it is coming", async () => {
    if ((await navText("dashboard")) !== "概览") await (await session.byTestId("lang-toggle")).click();
    await waitFor(async () => (await navText("dashboard")) === "概览", { what: "Chinese nav" });
    for (const id of ["org", "members", "reconcile", "settings"]) {
      await (await session.byTestId(`nav-${id}`)).click();
      await session.byTestId(`page-${id}`);
      const coming = await session.byTestId("coming-soon");
      assert.match(await coming.text(), /即将推出/);
      assert.equal(await (await session.byTestId(`nav-${id}`)).attribute("aria-current"), "page");
    }
    await shot("03-settings-zh");
    await (await session.byTestId("nav-members")).click();
    await session.byTestId("page-members");
    await shot("04-members-zh");
    await (await session.byTestId("nav-dashboard")).click();
    await session.byTestId("app-info");
  });
});
