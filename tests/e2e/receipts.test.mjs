// E-receipts through the real window: a store with a class is set up with the CLI (before the
// window opens), one payment recorded there; in the window a payment recorded on the Bills page
// names its receipt, the receipt opens from the bill's payment row, the Receipts page searches,
// previews (the record drawn as the PDF prints it), saves the archived PDF (checked: a real PDF
// whose SHA-256 is the one listed), voids with a reason (红冲 + reissue), exports the class's
// PDFs as a zip, and verifies the archive.
//
// Run through tests/e2e/run.sh (see app.test.mjs for the environment). Works on a fresh data
// folder and after the other e2e files: it adds its own store RC, term and class.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";

import { saveShot } from "./helpers.mjs";
import { Session, waitFor, waitForDriver } from "./webdriver.mjs";

const driverUrl = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const app = process.env.FEEDESK_APP;
const dataDir = process.env.FEEDESK_DATA_DIR;
const screenshotDir = process.env.SCREENSHOT_DIR ?? new URL("./screenshots", import.meta.url).pathname;
const TERM = "2027暑期收费班";
const tmp = mkdtempSync(join(tmpdir(), "feedesk-e2e-receipts-"));

let session;

/** Runs the CLI built beside the app on the test's data folder; returns its stdout. */
function cli(...args) {
  const feedesk = process.env.FEEDESK_CLI ?? join(dirname(app), "feedesk");
  return execFileSync(feedesk, ["--data-dir", dataDir, ...args], { encoding: "utf8" });
}

async function shot(name) {
  await saveShot(session, screenshotDir, name);
}

async function go(id) {
  await session.click(`nav-${id}`);
  await session.byTestId(`page-${id}`);
}

async function count(selector) {
  return (await session.findAll(selector)).length;
}

async function data(testId, name) {
  return (await session.byTestId(testId)).attribute(`data-${name}`);
}

async function waitData(testId, name, value, what) {
  let last;
  await waitFor(
    async () => {
      last = await data(testId, name).catch(() => undefined);
      return last === value;
    },
    { what: `${what ?? testId}: data-${name}=${value}` },
  ).catch((error) => {
    throw new Error(`${error.message} (last seen: ${last})`);
  });
}

/** The store, term, class, roster, account, fee and plan, and one payment, through the CLI. */
function setUp() {
  try {
    cli("org", "list");
  } catch {
    cli("init", "--name", "星火教育集团");
  }
  cli("org", "add", "--parent", "HQ", "--kind", "store", "--code", "RC", "--name", "钱塘校区");
  cli("term", "add", "--name", TERM, "--start", "2027-07-01", "--end", "2027-08-31");
  cli("class", "add", "--unit", "RC", "--term", TERM, "--name", "一班");
  const roster = join(tmp, "钱塘名单.csv");
  const rows = ["学号,姓名,家长姓名,校区,班级,家长手机号码", "RC001,沈一帆,沈建华,RC,一班,13900139101", "RC002,钱多多,钱立新,RC,一班,13900139102", "RC003,孙悦,孙海燕,RC,一班,13900139103"];
  writeFileSync(roster, "\ufeff" + rows.join("\r\n") + "\r\n");
  cli("import", "roster", roster, "--unit", "RC", "--term", TERM);
  cli("account", "add", "--unit", "RC", "--channel", "offline-cash", "--name", "钱塘前台现金");
  cli("fee", "add", "--unit", "RC", "--name", "暑期学费");
  cli("plan", "add", "--fee", "RC/暑期学费", "--class", "RC/一班", "--rule", "fixed:3680.50", "--due", "2027-07-15", "--account", "钱塘前台现金");
  const plan = JSON.parse(cli("plan", "list", "--json")).find((p) => p.fee === "暑期学费");
  cli("plan", "issue", String(plan.id));
  const bills = JSON.parse(cli("bill", "list", "--unit", "RC", "--json"));
  const bill = (no) => bills.find((b) => b.member_no === no);
  const paid = JSON.parse(cli("pay", "--bill", String(bill("RC001").id), "--amount", "3680.50", "--account", "钱塘前台现金", "--key", "e2e-rc-1", "--json"));
  return { first: paid.receipt_no, rc002: bill("RC002").id };
}

describe("receipts", () => {
  let made;

  before(async () => {
    assert.ok(app, "FEEDESK_APP must point at the built app binary");
    assert.ok(dataDir, "FEEDESK_DATA_DIR must be a temp folder (never a user's data)");
    made = setUp();
    assert.match(made.first, /^RC-\d{4}-000001$/);
    await waitForDriver(driverUrl);
    session = await Session.start(driverUrl, { browserName: "wry", "tauri:options": { application: app } });
  });

  after(async () => {
    if (session) await session.end().catch(() => {});
  });

  afterEach(async () => {
    const notes = await session
      .execute(`return [...document.querySelectorAll('[role="alert"]')].map((n) => n.dataset.testid + ": " + n.textContent)`)
      .catch(() => []);
    for (const note of notes) console.log(`  (on screen) ${note}`);
  });

  test("a payment on the Bills page names its receipt, which opens from the payment", async () => {
    await session.byTestId("nav-dashboard", 30000);
    await go("bills");
    await session.fill("bill-search", "RC002");
    const row = await waitFor(async () => (await session.findAll('[data-testid="bill-row"][data-member="RC002"]'))[0], { what: "RC002's bill" });
    await row.click();
    await waitFor(async () => (await session.text("bill-detail")).includes("RC002"), { what: "RC002's bill open" });
    await session.click("bill-pay");
    await session.byTestId("pay-dialog");
    await session.click("pay-submit");
    const flash = await session.byTestId("bill-flash");
    const text = await flash.text();
    const number = /RC-\d{4}-000002/.exec(text)?.[0];
    assert.ok(number, `the flash names the receipt: ${text}`);
    const payment = await waitFor(async () => (await session.findAll('[data-testid="payment-row"]'))[0], { what: "payment listed" });
    const paymentId = await payment.attribute("data-payment-id");
    await session.click(`receipt-of-${paymentId}`);
    await session.byTestId("page-receipts");
    await session.byTestId("receipt-focus");
    await waitData("receipt-detail", "number", number, "the payment's receipt open");
    const preview = await session.text("receipt-preview");
    for (const expected of ["钱塘校区", "钱立新", "钱多多", "叁仟陆佰捌拾元伍角整", "¥3,680.50", TERM, "暑期学费", "现金"]) {
      assert.ok(preview.includes(expected), `${expected} in the preview: ${preview}`);
    }
    await shot("receipts-01-preview-zh");
  });

  test("search, save the archived PDF, void with a reason, export the class, verify", async () => {
    await session.click("receipt-detail-close");
    await session.click("receipt-focus-clear");
    await session.fill("receipt-search", "RC-");
    await waitData("receipt-count", "total", "2", "two RC receipts");
    await session.fill("receipt-search", "沈一帆");
    await waitData("receipt-count", "total", "1", "search by name");
    const row = await waitFor(async () => (await session.findAll('[data-testid="receipt-row"]'))[0], { what: "one row" });
    assert.equal(await row.attribute("data-number"), made.first);
    await row.click();
    await waitData("receipt-detail", "number", made.first);
    await waitData("receipt-detail-status", "status", "issued");

    // The archived original, saved where the user picks (the e2e path replaces the dialog).
    const pdfPath = join(tmp, "receipt.pdf");
    await session.fill("receipt-save-path", pdfPath);
    await session.click("receipt-save-use");
    await waitData("receipt-saved", "file", pdfPath, "PDF saved");
    const pdf = readFileSync(pdfPath);
    assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
    assert.ok(pdf.length < 80 * 1024, `PDF is ${pdf.length} bytes`);
    const sha = await data("receipt-detail-sha", "sha");
    assert.equal(createHash("sha256").update(pdf).digest("hex"), sha);

    // Void (红冲) with a reason: a reversal and a reissue, which opens.
    await session.click("receipt-void");
    await session.byTestId("receipt-void-dialog");
    await session.click("receipt-void-submit");
    await session.byTestId("receipt-void-error");
    assert.equal(await data("receipt-void-error", "code"), "validation");
    await session.fill("receipt-void-reason", "交款人姓名登记有误");
    await session.click("receipt-void-submit");
    await waitFor(async () => (await data("receipt-detail", "number")) !== made.first, { what: "the reissue opens" });
    const reissued = await data("receipt-detail", "number");
    assert.match(reissued, /^RC-\d{4}-000004$/);
    assert.ok((await session.text("receipt-preview")).includes("替代原收据"));
    await session.click("receipt-original");
    await waitData("receipt-detail", "number", made.first);
    await waitData("receipt-detail-status", "status", "voided");
    await session.click("receipt-reversed-by");
    await waitFor(async () => (await session.text("receipt-preview")).includes("收款收据（红冲）"), { what: "the reversal" });
    await shot("receipts-02-reversal-zh");

    // The class's receipts as a zip; then the whole archive verified.
    await session.click("receipt-detail-close");
    await session.fill("receipt-search", "");
    await session.choose("receipt-term", TERM);
    await session.choose("receipt-class", "RC/一班");
    await waitData("receipt-count", "total", "4", "the class's four records");
    const zip = join(tmp, "rc-class.zip");
    await session.fill("receipt-export-path", zip);
    await session.click("receipt-export-use");
    await waitData("receipt-exported", "receipts", "4", "exported");
    assert.equal(readFileSync(zip).subarray(0, 2).toString(), "PK");
    await session.click("receipt-verify");
    await waitData("receipt-verified", "intact", "true", "verify");
    await shot("receipts-03-list-zh");

    // The paper setting: A4 from now on, as the CLI reads it too.
    await waitFor(async () => (await session.execute(`return document.querySelector('[data-testid="receipt-paper"]').disabled`)) === false, { what: "paper setting loaded" });
    await session.choose("receipt-paper", "a4");
    await waitFor(async () => JSON.parse(cli("receipt", "settings", "--json")).paper === "a4", { what: "paper saved" });
    await session.choose("receipt-paper", "a5");
    await waitFor(async () => JSON.parse(cli("receipt", "settings", "--json")).paper === "a5", { what: "paper back to A5" });

    const list = JSON.parse(cli("receipt", "list", "--class", "RC/一班", "--json"));
    assert.deepEqual(
      list.map((r) => r.status),
      ["voided", "issued", "reversal", "issued"],
    );
  });
});
