// Reconciliation and reports through the real window: a WeChat Pay account (added on Fees) gets
// a trade bill of today written by this test in the documented format (two payments FeeDesk
// never recorded); the Reconciliation page imports it (the same file again changes nothing),
// runs (every class counted, both lines channel-only), resolves one as explained (audited in
// the core; the row turns resolved and stays so after another run), exports the workbook; the
// Reports page exports the month's report with its progress bar and shows its figures; the
// dashboard shows its charts drawn by the core's plotters code as SVG.
//
// Works on a fresh data folder and after the other test files (it adds its own store RC).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { saveShot } from "./helpers.mjs";
import { Session, waitFor, waitForDriver } from "./webdriver.mjs";

const driverUrl = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const app = process.env.FEEDESK_APP;
const screenshotDir = process.env.SCREENSHOT_DIR ?? new URL("./screenshots", import.meta.url).pathname;
const ACCOUNT = "对账测试微信";

let session;
let work;

/** Today in Asia/Shanghai, YYYY-MM-DD. */
const today = () => new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);

const HEADER =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

/** A WeChat Pay trade bill (README "Payment channels"): backticked rows and the summary. */
function wechatBill(rows) {
  const yuan = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
  const fee = (fen) => Math.floor((fen * 6 + 500) / 1000);
  const tick = (fields) => fields.map((f) => "`" + f).join(",") + "\r\n";
  let out = HEADER + "\r\n";
  let total = 0;
  let fees = 0;
  for (const [time, txn, order, fen] of rows) {
    total += fen;
    fees += fee(fen);
    out += tick([time, "wx8888888888888888", "1900000109", "0", "", txn, order, "oUser", "NATIVE", "SUCCESS", "OTHERS", "CNY", yuan(fen), "0.00", "0", "0", "0.00", "0.00", "", "", "学费", "", `${yuan(fee(fen))}000`, "0.60%", yuan(fen), "0.00", ""]);
  }
  out += "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n";
  out += tick([String(rows.length), yuan(total), "0.00", "0.00", `${yuan(fees)}000`, yuan(total), "0.00"]);
  return out;
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

async function shot(name) {
  await session.execute(`document.querySelector("main.content").scrollTo(0, 0)`);
  await saveShot(session, screenshotDir, name);
}

describe("reconciliation and reports", () => {
  before(async () => {
    assert.ok(app, "FEEDESK_APP must point at the built app binary");
    await waitForDriver(driverUrl);
    session = await Session.start(driverUrl, { browserName: "wry", "tauri:options": { application: app } });
    work = mkdtempSync(join(tmpdir(), "feedesk-e2e-recon-"));
  });

  after(async () => {
    if (session) await session.end().catch(() => {});
  });

  test("a store with a WeChat Pay account", async () => {
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
    await session.fill("org-add-code", "RC");
    await session.fill("org-add-name", "对账校区");
    await session.click("org-add-submit");
    await session.byTestId("unit-RC");
    await go("fees");
    await session.choose("fees-unit", "RC");
    await session.choose("account-channel", "wechat");
    await session.fill("account-name", ACCOUNT);
    await session.click("account-submit");
    await waitFor(async () => (await session.text("account-list")).includes(ACCOUNT), { what: "account listed" });
  });

  test("import a statement once, run, resolve a discrepancy, export the workbook", async () => {
    const day = today();
    const file = join(work, `wx-${day}.csv`);
    writeFileSync(
      file,
      wechatBill([
        [`${day} 09:15:00`, "4200000000000000001", "POS-E2E-1", 123456],
        [`${day} 10:30:00`, "4200000000000000002", "POS-E2E-2", 88800],
      ]),
    );
    await go("reconcile");
    await session.byTestId("recon-page");
    const value = await session.execute(
      `return [...document.querySelector('[data-testid="recon-account"]').options].find((o) => o.textContent.includes(arguments[0]))?.value`,
      [ACCOUNT],
    );
    await session.choose("recon-account", value);
    await session.fill("recon-file-path", file);
    await session.click("recon-file-use");
    await waitFor(async () => (await data("recon-import-result", "new")) === "2", { what: "imported, 2 new" });
    assert.equal(await data("recon-import-result", "duplicate"), "false");
    // The same file again changes nothing.
    await session.click("recon-file-use");
    await waitFor(async () => (await data("recon-import-result", "duplicate")) === "true", { what: "duplicate file" });

    await session.click("recon-run");
    await session.byTestId("recon-summary", 30000);
    assert.equal(await data("recon-tile-channel_only", "count"), "2");
    assert.equal(await data("recon-tile-channel_only", "amount"), "2122.56");
    for (const c of ["matched", "amount_mismatch", "ours_only", "refund_mismatch"]) {
      assert.equal(await data(`recon-tile-${c}`, "count"), "0", c);
    }
    assert.equal(await data("recon-tile-fees", "amount"), "12.74");
    assert.equal(await data("recon-tile-open", "count"), "2");
    await waitFor(async () => (await count('[data-testid="recon-item"]')) === 2, { what: "two items listed" });
    await shot("reconcile-01-run");

    // Explain the first; it stays resolved after another run.
    const first = await session.execute(`return document.querySelector('[data-testid="recon-item"]').dataset.id`);
    await session.click(`recon-explain-${first}`);
    await session.fill("recon-note", "前台POS机测试交易，已当日退回");
    await session.click("recon-resolve-confirm");
    await waitFor(
      async () => (await session.findAll(`[data-testid="recon-item"][data-id="${first}"][data-status="resolved"]`)).length === 1,
      { what: "item resolved" },
    );
    await session.click("recon-run");
    await waitFor(async () => (await data("recon-tile-open", "count")) === "1", { what: "one left open" });
    assert.equal((await session.findAll(`[data-testid="recon-item"][data-id="${first}"][data-status="resolved"]`)).length, 1);
    // A note is required.
    const second = await session.execute(`return [...document.querySelectorAll('[data-testid="recon-item"]')].find((r) => r.dataset.status === "open").dataset.id`);
    await session.click(`recon-follow-up-${second}`);
    await session.click("recon-resolve-confirm");
    assert.equal(await data("recon-resolve-error", "code"), "validation");
    await session.fill("recon-note", "联系微信支付核对");
    await session.click("recon-resolve-confirm");
    await waitFor(
      async () => (await session.findAll(`[data-testid="recon-item"][data-id="${second}"][data-status="follow_up"]`)).length === 1,
      { what: "follow-up opened" },
    );

    const out = join(work, "对账.xlsx");
    await session.fill("recon-export-path", out);
    await session.click("recon-export-use");
    await waitFor(async () => (await data("recon-export-result", "file")) === out, { what: "workbook exported", timeoutMs: 30000 });
    assert.ok(existsSync(out) && statSync(out).size > 5000, "the workbook was written");
    await shot("reconcile-02-resolved");
  });

  test("the monthly report with its progress, figures and sheets", async () => {
    await go("reports");
    await session.byTestId("reports-page");
    await session.choose("reports-unit", "HQ");
    const out = join(work, "月报.xlsx");
    await session.fill("reports-path", out);
    await session.click("reports-use");
    const result = await session.byTestId("reports-result", 60000);
    assert.ok(Number(await result.attribute("data-sheets")) >= 2);
    assert.ok(Number(await result.attribute("data-charts")) >= 3);
    assert.ok(existsSync(out) && statSync(out).size > 20000, "the report was written with its charts");
    assert.match(await session.text("reports-result"), /合并汇总/);
    assert.match(await session.text("reports-result"), /¥12\.74/, "the channel fees reconciled above");
    await shot("reports-01-export");
  });

  test("the dashboard's charts, drawn by the same plotters code as SVG", async () => {
    await go("dashboard");
    await session.byTestId("dashboard-charts", 30000);
    for (const id of ["chart-trend", "chart-aging"]) {
      await waitFor(
        () =>
          session.execute(
            `const img = document.querySelector('[data-testid="' + arguments[0] + '"]');
             return img && img.complete && img.naturalWidth > 0 && img.src.startsWith("data:image/svg+xml") ? true : null;`,
            [id],
          ),
        { what: `${id} loaded` },
      );
    }
    const svg = await session.execute(`return decodeURIComponent(document.querySelector('[data-testid="chart-aging"]').src.split(",")[1])`);
    assert.match(svg, /<svg/);
    assert.match(svg, /应收账龄/, "the title drawn as text");
    await session.execute(`document.querySelector('[data-testid="dashboard-charts"]').scrollIntoView()`);
    await saveShot(session, screenshotDir, "dashboard-charts");
  });
});
