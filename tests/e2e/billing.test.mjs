// Directed-fee billing through the real window: a store with a class of four members (one
// withdrawn) is set up through the UI; collection accounts and fee items are added on the Fees
// page; a fixed-price plan with a sibling discount and a split plan are issued after their
// previews (figures asserted to the fen); on the Bills page an offline payment is recorded, an
// overpayment, a wrong account and a partial payment are refused with the core's message, a
// payment is partly refunded and an unpaid bill voided; the dashboard's money tiles, aging and
// drill-down tree show the result, and the books balance.
//
// Run through tests/e2e/run.sh (see app.test.mjs for the environment). Works on a fresh data
// folder and after app.test.mjs (it adds its own store BJ, term and class). Due dates are
// relative to today in the institution's zone (UTC+8), so aging does not depend on the date.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";

import { saveShot } from "./helpers.mjs";
import { Session, waitFor, waitForDriver } from "./webdriver.mjs";

const driverUrl = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const app = process.env.FEEDESK_APP;
const dataDir = process.env.FEEDESK_DATA_DIR;
const screenshotDir = process.env.SCREENSHOT_DIR ?? new URL("./screenshots", import.meta.url).pathname;

let session;

/** YYYY-MM-DD, `days` from today in Asia/Shanghai. */
function shanghaiDate(days) {
  return new Date(Date.now() + 8 * 3600 * 1000 + days * 86400 * 1000).toISOString().slice(0, 10);
}
const DUE_LATER = shanghaiDate(30); // not yet due
const DUE_PAST = shanghaiDate(-10); // 1-30 days late

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

async function attr(testId, name) {
  return (await session.byTestId(testId)).attribute(name);
}

/** The `data-<name>` attribute of the element with this test id. */
async function data(testId, name) {
  return attr(testId, `data-${name}`);
}

/** Waits until the element with this test id has `data-<name>` equal to `value`. */
async function waitData(testId, name, value, what) {
  let last;
  await waitFor(
    async () => {
      last = await data(testId, name);
      return last === value;
    },
    { what: `${what ?? testId}: data-${name}=${value}` },
  ).catch((error) => {
    throw new Error(`${error.message} (last seen: ${last})`);
  });
}

/** Picks the option of a <select> whose visible text contains `text`. */
async function chooseByText(testId, text) {
  await session.byTestId(testId);
  const value = await session.execute(
    `const el = document.querySelector('[data-testid="' + arguments[0] + '"]');
     const option = [...el.options].find((o) => o.textContent.includes(arguments[1]));
     return option ? option.value : null;`,
    [testId, text],
  );
  assert.ok(value !== null, `select ${testId} has no option containing ${text}`);
  await session.choose(testId, value);
}

/** The value the input with this test id shows. */
async function inputValue(testId) {
  await session.byTestId(testId);
  return session.execute(`return document.querySelector('[data-testid="' + arguments[0] + '"]').value`, [testId]);
}

/** Opens the bill of `member` for `fee` in the list (closing the open one first). */
async function openBill(member, fee) {
  if ((await count('[data-testid="bill-detail"]')) > 0) {
    await session.click("bill-detail-close");
    await waitFor(async () => (await count('[data-testid="bill-detail"]')) === 0, { what: "drawer closed" });
  }
  const selector = `[data-testid="bill-row"][data-member="${member}"][data-fee="${fee}"]`;
  const row = await waitFor(async () => (await session.findAll(selector))[0], { what: `bill row ${member} ${fee}` });
  await row.click();
  await waitFor(async () => (await session.text("bill-detail")).includes(member), { what: `detail of ${member} ${fee}` });
}

/** Records a payment in the open bill's dialog; returns the error note's element or null. */
async function pay(amount, { account, reference } = {}) {
  if ((await count('[data-testid="pay-dialog"]')) === 0) await session.click("bill-pay");
  await session.byTestId("pay-dialog");
  await session.fill("pay-amount", amount);
  if (account) await chooseByText("pay-account", account);
  if (reference) await session.fill("pay-reference", reference);
  // The form carries the mutation's status and submission time, so an error note left from
  // the previous attempt is never mistaken for this one's.
  const before = await attr("pay-form", "data-submitted");
  await session.click("pay-submit");
  return waitFor(
    async () => {
      const forms = await session.findAll('[data-testid="pay-form"]');
      if (forms.length === 0) return "done";
      const [status, submitted] = [await forms[0].attribute("data-status"), await forms[0].attribute("data-submitted")];
      if (submitted === before || status !== "error") return null;
      return session.byTestId("pay-error");
    },
    { what: "payment recorded or refused" },
  );
}

function writeRoster() {
  const dir = mkdtempSync(join(tmpdir(), "feedesk-e2e-billing-"));
  const rows = [
    "学号,姓名,校区,班级,家长姓名,家长手机号码,状态",
    "BJ001,周一鸣,BJ,一班,周强,13900139001,在读",
    "BJ002,周二鸣,BJ,一班,周强,13900139002,在读",
    "BJ003,林小雨,BJ,一班,林峰,13900139003,在读",
    "BJ004,高远,BJ,一班,高山,13900139004,退学",
  ];
  const file = join(dir, "滨江校区名单.csv");
  writeFileSync(file, "\ufeff" + rows.join("\r\n") + "\r\n");
  return file;
}

describe("billing", () => {
  before(async () => {
    assert.ok(app, "FEEDESK_APP must point at the built app binary");
    assert.ok(dataDir, "FEEDESK_DATA_DIR must be a temp folder (never a user's data)");
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

  test("setup through the UI: a store, a term, a class and its roster", async () => {
    await session.byTestId("nav-dashboard", 30000);
    const state = await waitFor(
      async () => {
        if ((await count('[data-testid="first-run"]')) > 0) return "first-run";
        if ((await count('[data-testid="overview"]')) > 0) return "ready";
        return null;
      },
      { what: "first run or the dashboard" },
    );
    if (state === "first-run") {
      await session.fill("first-run-name", "星火教育集团");
      await session.click("first-run-create");
      await session.byTestId("overview");
    }

    await go("org");
    await session.click("unit-HQ");
    await session.choose("org-add-kind", "store");
    await session.fill("org-add-code", "BJ");
    await session.fill("org-add-name", "滨江校区");
    await session.click("org-add-submit");
    await session.byTestId("unit-BJ");

    await go("classes");
    await session.fill("term-name", "2027春季学期");
    await session.fill("term-start", "2027-02-20");
    await session.fill("term-end", "2027-07-10");
    await session.click("term-submit");
    await waitFor(async () => (await session.text("term-list")).includes("2027春季学期"), { what: "term listed" });
    await session.choose("class-store", "BJ");
    await session.choose("class-term", "2027春季学期");
    await session.fill("class-name", "一班");
    await session.click("class-submit");
    await waitFor(async () => (await session.text("class-list")).includes("2027春季学期"), { what: "class listed" });

    await go("members");
    await session.click("tab-import");
    const roster = writeRoster();
    await session.fill("roster-path", roster);
    await session.click("roster-path-use");
    await waitFor(async () => (await session.text("roster-file")) === roster, { what: "the roster chosen" });
    await session.choose("roster-unit", "BJ");
    await session.choose("roster-term", "2027春季学期");
    await session.click("roster-preview");
    await waitData("preview-summary", "rejected", "0", "roster preview");
    await session.click("mode-all");
    await session.click("roster-commit");
    const result = await session.byTestId("import-result", 60000);
    assert.equal(await result.attribute("data-imported"), "4");
  });

  test("fees: collection accounts, fee items and two plans", async () => {
    await go("fees");
    await session.choose("fees-unit", "BJ");
    await session.choose("account-channel", "offline-cash");
    await session.fill("account-name", "滨江前台现金");
    await session.click("account-submit");
    await waitFor(async () => (await count('[data-testid="account-row"]')) === 1, { what: "cash account listed" });
    await session.choose("account-channel", "offline-bank");
    await session.fill("account-name", "滨江对公账户");
    await session.click("account-submit");
    await waitFor(async () => (await count('[data-testid="account-row"]')) === 2, { what: "bank account listed" });

    await session.fill("fee-name", "材料费");
    await session.click("fee-submit");
    await waitFor(async () => (await count('[data-testid="fee-row"]')) === 1, { what: "fee item listed" });
    await session.fill("fee-name", "班费");
    await session.click("fee-submit");
    await waitFor(async () => (await count('[data-testid="fee-row"]')) === 2, { what: "second fee item listed" });

    // Plan 1: materials, 1200.00 each, partial payments allowed, a 10% sibling discount.
    await chooseByText("plan-fee", "材料费");
    await session.choose("plan-target-kind", "class");
    await session.choose("plan-target", "BJ/一班");
    await session.choose("plan-rule-kind", "fixed");
    await session.fill("plan-rule", "1200");
    await session.fill("plan-due", DUE_LATER);
    await chooseByText("plan-account", "滨江前台现金");
    await session.click("plan-partial");
    await session.fill("plan-discounts", "BJ002=10%:兄弟姐妹");
    await session.click("plan-submit");
    await session.byTestId("plan-added");

    // Plan 2: class fund, 100.00 split among the class, paid in full, already past due.
    await chooseByText("plan-fee", "班费");
    await session.choose("plan-target", "BJ/一班");
    await session.choose("plan-rule-kind", "split");
    await session.fill("plan-rule", "100");
    await session.fill("plan-due", DUE_PAST);
    await chooseByText("plan-account", "滨江前台现金");
    await session.click("plan-submit");
    await waitFor(async () => (await count('[data-testid="plan-row"]')) === 2, { what: "two plans listed" });
    await session.execute(`document.querySelector("main.content").scrollTo(0, 0)`);
    await shot("billing-01-fees-zh");

    // The same account name again: the core's conflict, inline.
    await session.fill("account-name", "滨江对公账户");
    await session.click("account-submit");
    assert.equal(await attr("account-error", "data-code"), "conflict");
  });

  test("issue: the preview shows exactly what will be written, then the bills are issued", async () => {
    const planId = (name) =>
      session.execute(
        `return [...document.querySelectorAll('[data-testid="plan-row"]')].find((r) => r.textContent.includes(arguments[0]))?.dataset.planId`,
        [name],
      );
    const materials = await planId("材料费");
    const fund = await planId("班费");
    assert.ok(materials && fund);

    await session.click(`plan-issue-${materials}`);
    await session.byTestId("issue-preview");
    await waitData("preview-targeted", "value", "3", "members targeted (the withdrawn member is not)");
    assert.equal(await data("preview-new-bills", "value"), "3");
    assert.equal(await data("preview-already", "value"), "0");
    assert.equal(await data("preview-gross", "value"), "3600.00");
    assert.equal(await data("preview-discounts", "value"), "120.00");
    assert.equal(await data("preview-due", "value"), "3480.00");
    assert.match(await session.text("preview-due"), /¥3,480\.00/);
    const byUnit = await session.execute(
      `return [...document.querySelectorAll('[data-testid="preview-unit-row"]')].map((r) => r.dataset.unit + ":" + r.dataset.bills + ":" + r.dataset.due)`,
    );
    assert.deepEqual(byUnit, ["BJ:3:3480.00"]);
    const sample = await session.execute(
      `return [...document.querySelectorAll('[data-testid="preview-sample-row"]')].map((r) => r.dataset.member + "=" + r.dataset.due)`,
    );
    assert.deepEqual(sample, ["BJ001=1200.00", "BJ002=1080.00", "BJ003=1200.00"]);
    await shot("billing-02-issue-preview-zh");
    // Nothing is written by the preview.
    assert.equal(await session.text(`plan-bills-${materials}`), "0");
    await session.click("issue-confirm");
    await waitData("issue-result", "new-bills", "3", "issue result");
    await waitFor(async () => (await session.text(`plan-bills-${materials}`)) === "3", { what: "3 bills on the plan" });

    // Issuing again would add nothing.
    await session.click(`plan-issue-${materials}`);
    await waitData("preview-already", "value", "3", "already billed");
    assert.equal(await data("preview-new-bills", "value"), "0");
    await session.byTestId("preview-nothing");
    await session.click("issue-cancel");

    // The split: 100.00 / 3 = 33.34 + 33.33 + 33.33, never a fen lost or invented.
    await session.click(`plan-issue-${fund}`);
    await waitData("preview-due", "value", "100.00", "split preview");
    const shares = await session.execute(
      `return [...document.querySelectorAll('[data-testid="preview-sample-row"]')].map((r) => r.dataset.due)`,
    );
    assert.deepEqual(shares, ["33.34", "33.33", "33.33"]);
    await session.click("issue-confirm");
    await waitData("issue-result", "new-bills", "3", "split issued");
  });

  test("bills: totals, an offline payment, refusals with the core's message, a refund, a void", async () => {
    await go("bills");
    await session.choose("bill-unit", "BJ");
    await waitData("bill-count", "value", "6", "six bills");
    assert.equal(await data("bill-due", "value"), "3580.00");
    assert.equal(await data("bill-paid", "value"), "0.00");
    assert.equal(await data("bill-outstanding", "value"), "3580.00");

    await session.fill("bill-search", "BJ001");
    await waitData("bill-count", "value", "2", "search BJ001");
    await session.fill("bill-search", "");
    await session.choose("bill-class", "BJ/一班");
    await waitData("bill-count", "value", "6", "class filter");

    // BJ001's materials bill: 500.00 now (partial payments are allowed).
    await openBill("BJ001", "材料费");
    await waitData("bill-detail-outstanding", "value", "1200.00");
    await session.click("bill-pay");
    assert.equal(await inputValue("pay-amount"), "1200.00", "the amount defaults to what is outstanding");
    assert.match(
      await session.execute(`const s = document.querySelector('[data-testid="pay-account"]'); return s.options[s.selectedIndex].textContent`),
      /滨江前台现金/,
      "the account defaults to the designated one",
    );
    assert.equal(await pay("500"), "done");
    await waitData("bill-detail-status", "status", "partial");
    assert.equal(await data("bill-detail-paid", "value"), "500.00");
    assert.equal(await data("bill-detail-outstanding", "value"), "700.00");
    await session.byTestId("bill-flash");

    // 800.00 is more than the 700.00 still owed: refused, with the core's message.
    const over = await pay("800");
    assert.notEqual(over, "done");
    assert.equal(await over.attribute("data-code"), "validation");
    const overText = await over.text();
    assert.match(overText, /输入不符合要求/);
    assert.match(overText, /refused: 800\.00 is more than the 700\.00 still owed on bill \d+; overpayment is not accepted/);
    await shot("billing-03-overpayment-zh");
    // The same submission retried with the right amount (same idempotency key) goes through.
    assert.equal(await pay("700"), "done");
    await waitData("bill-detail-status", "status", "paid");
    assert.equal(await data("bill-detail-outstanding", "value"), "0.00");
    await waitFor(async () => (await count('[data-testid="payment-row"]')) === 2, { what: "two payments" });

    // Refund 200.00 of the first payment.
    const first = await session.execute(`return document.querySelector('[data-testid="payment-row"]').dataset.paymentId`);
    await session.click(`refund-${first}`);
    assert.equal(await inputValue("refund-amount"), "500.00", "the refund defaults to what is left of the payment");
    await session.fill("refund-amount", "200");
    await session.fill("refund-reason", "退还部分材料费");
    await session.click("refund-submit");
    // Nothing moves before the effect is confirmed in words: the amount, to whom, the receipt.
    const refundText = await session.text("refund-confirm-text");
    assert.match(refundText, /退款 ¥200\.00 给 .+，原因：退还部分材料费。/);
    assert.match(refundText, /将红冲收据 \S+ 并重开一张/);
    assert.equal(await data("bill-detail-refunded", "value"), "0.00", "nothing refunded before confirming");
    await session.click("refund-confirm");
    await waitData("bill-detail-refunded", "value", "200.00");
    await waitFor(
      async () =>
        (await session.execute(`return document.querySelector('[data-testid="payment-row"]').dataset.refunded`)) === "200.00",
      { what: "payment shows the refund" },
    );

    // BJ001's class fund (33.34, paid in full only): the wrong account and a partial payment
    // are refused; the designated account and the full amount go through.
    await openBill("BJ001", "班费");
    await waitData("bill-detail-outstanding", "value", "33.34");
    const wrong = await pay("33.34", { account: "滨江对公账户", reference: "TX20261122001" });
    assert.notEqual(wrong, "done");
    assert.match(await wrong.text(), /collected only into its plan's designated account '滨江前台现金'/);
    const partial = await pay("10", { account: "滨江前台现金" });
    assert.notEqual(partial, "done");
    assert.match(await partial.text(), /must be paid in full \(33\.34\); its plan does not allow partial payment/);
    assert.equal(await pay("33.34"), "done");
    await waitData("bill-detail-status", "status", "paid");

    // BJ003's materials bill, unpaid: voided with a reason.
    await openBill("BJ003", "材料费");
    await session.click("bill-void");
    await session.fill("void-reason", "学员转班");
    await session.click("void-submit");
    assert.match(await session.text("void-confirm-text"), /作废账单 #\d+（.+，材料费），冲销应收 ¥[\d,.]+，原因：学员转班。/);
    await session.click("void-confirm");
    await waitData("bill-detail-status", "status", "voided");
    assert.match(await session.text("bill-detail-note"), /学员转班/);
    await session.click("bill-detail-close");

    await waitData("bill-due", "value", "2380.00", "due without the voided bill");
    assert.equal(await data("bill-paid", "value"), "1233.34");
    assert.equal(await data("bill-refunded", "value"), "200.00");
    assert.equal(await data("bill-outstanding", "value"), "1146.66");
    await session.choose("bill-status", "open");
    await waitData("bill-count", "value", "3", "open bills");
    await session.choose("bill-status", "");
    await waitData("bill-count", "value", "6", "all statuses again");
    await shot("billing-04-bills-zh");
    await openBill("BJ001", "材料费");
    await shot("billing-05-bill-detail-zh");
  });

  test("dashboard: money tiles, aging and the drill-down tree; the books balance", async () => {
    await go("dashboard");
    await session.byTestId("money-overview");
    // Billed 1200 + 1080 + 33.34 + 33.33 + 33.33; collected 1200 + 33.34 (refunds shown apart).
    await waitData("money-billed", "value", "2380.00", "billed");
    assert.equal(await data("money-collected", "value"), "1233.34");
    assert.equal(await data("money-outstanding", "value"), "1146.66");
    assert.equal(await data("money-refunded", "value"), "200.00");
    assert.equal(await data("money-rate", "value"), "0.5182");
    assert.equal(await session.execute(`return document.querySelector('[data-testid="money-rate"] .tile-value').textContent`), "51.82%");
    assert.match(await session.text("money-billed"), /¥2,380\.00/);
    assert.equal(await data("aging-not_due", "amount"), "1080.00");
    assert.equal(await data("aging-not_due", "bills"), "1");
    assert.equal(await data("aging-0_30", "amount"), "66.66");
    assert.equal(await data("aging-0_30", "bills"), "2");
    assert.equal(await data("money-node-BJ", "billed"), "2380.00");

    await session.click("money-pick-BJ");
    await waitData("money-overview", "unit", "BJ", "BJ selected");
    assert.match(await session.text("money-scope"), /滨江校区/);
    assert.equal(await data("money-collected", "value"), "1233.34");
    await waitData("books-balanced", "balanced", "true", "books balance");
    assert.equal(await session.text("books-debit"), await session.text("books-credit"));

    await session.execute(`document.querySelector('[data-testid="money-overview"]').scrollIntoView({ block: "start" })`);
    await shot("billing-06-dashboard-zh");

    // In English the same figures, and a refusal shows the core's message itself.
    await session.click("lang-toggle");
    await waitFor(async () => (await session.text("money-rate")).includes("Collection rate"), { what: "English tiles" });
    assert.match(await session.text("aging-0_30"), /1–30 days late/);
    await shot("billing-07-dashboard-en");
    await go("bills");
    await session.choose("bill-unit", "BJ");
    await openBill("BJ002", "班费");
    const refused = await pay("50");
    assert.notEqual(refused, "done");
    assert.match(await refused.text(), /^refused: 50\.00 is more than the 33\.33 still owed on bill \d+; overpayment is not accepted$/);
    await session.click("pay-dialog-close");
    await session.click("lang-toggle");
    await waitFor(async () => (await session.text("nav-dashboard")).includes("概览"), { what: "Chinese again" });
  });
});
