// The desktop app through its real window: a new user sets up the organisation, terms and
// classes, imports a roster through the wizard (sees the row errors, fixes the mapping,
// commits the valid rows), finds the members, switches language, and undoes the import.
//
// Run through tests/e2e/run.sh, which starts Xvfb and tauri-driver and sets:
//   WEBDRIVER_URL      tauri-driver's address
//   FEEDESK_APP        absolute path of the built app binary
//   FEEDESK_DATA_DIR   the temp data folder the app was started with (empty: first run)
//   FEEDESK_E2E=1      shows the test-only file path field beside the native file dialog
//   SCREENSHOT_DIR     where screenshots go
// The tests run in order and share one window; each builds on the one before.
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

async function shot(name) {
  await saveShot(session, screenshotDir, name);
}

/** The visible label of a nav item (without its icon). */
async function navText(id) {
  await session.byTestId(`nav-${id}`);
  return (await session.find(`[data-testid="nav-${id}"] .nav-label`)).text();
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

/** A small roster with a title row, one column under a header FeeDesk does not know
 *  (家长微信: the guardian phone), and rows with the mistakes real rosters have. */
function writeRoster() {
  const dir = mkdtempSync(join(tmpdir(), "feedesk-e2e-roster-"));
  const rows = [
    "2026秋季学期 西湖校区 学员名单,,,,,,,",
    "学号,姓名,校区,班级,家长姓名,家长微信,入学日期,状态",
    "XH001,王小明,XH,一班,王大明,13800138001,2026-09-01,在读",
    "XH002,李小红,XH,一班,李大红,13800138002,2026/9/1,在读",
    "XH003,张晓峰,XH,一班,张伟,138-0013-8003,2026-09-01,在读",
    "XH004,陈一诺,XH,一班,陈静,13800138004,2026-09-02,在读",
    "XH005,刘子涵,XH,一班,刘洋,13800138005,2026-09-02,退学",
    "XH006,赵四,XH,一班,赵强,12345,2026-09-01,在读",
    "XH007,孙六,XH,三班,孙丽,13800138007,2026-09-01,在读",
    "XH008,,XH,一班,周红,13800138008,2026-09-01,在读",
    "XH009,吴九,XH,一班,吴刚,13800138009,2026-13-45,在读",
    "XH010,郑十,XH,一班,郑爽,13800138010,2026-09-03,在读",
  ];
  const file = join(dir, "西湖校区名单.csv");
  writeFileSync(file, "\ufeff" + rows.join("\r\n") + "\r\n");
  return file;
}

describe("desktop app", () => {
  before(async () => {
    assert.ok(app, "FEEDESK_APP must point at the built app binary");
    assert.ok(dataDir, "FEEDESK_DATA_DIR must be a temp folder (never a user's data)");
    await waitForDriver(driverUrl);
    session = await Session.start(driverUrl, { browserName: "wry", "tauri:options": { application: app } });
  });

  after(async () => {
    if (session) await session.end().catch(() => {});
  });

  // Any error note on screen after a test is worth seeing in the log.
  afterEach(async () => {
    const notes = await session
      .execute(`return [...document.querySelectorAll('[role="alert"]')].map((n) => n.dataset.testid + ": " + n.textContent)`)
      .catch(() => []);
    for (const note of notes) console.log(`  (on screen) ${note}`);
  });

  test("first run: Chinese, asks for the institution, then shows the dashboard", async () => {
    await session.byTestId("nav-dashboard", 30000);
    assert.equal(await session.title(), "FeeDesk");
    assert.equal(await navText("dashboard"), "概览");
    for (const id of ["org", "members", "classes", "fees", "bills", "receipts", "reminders", "reconcile", "reports", "settings"]) {
      await session.byTestId(`nav-${id}`);
    }
    await session.byTestId("first-run");
    await shot("01-first-run-zh");

    await session.fill("first-run-name", "星火教育集团");
    await session.click("first-run-create");
    await session.byTestId("overview");
    assert.equal(await session.text("institution-name"), "星火教育集团");
    assert.match(await session.text("count-regions"), /^0/);
    assert.equal(await session.text("app-info-data-dir"), dataDir, "the app uses the data folder it was given");
    assert.match(await session.text("app-info-version"), /^\d+\.\d+\.\d+/);
  });

  test("organisation: adds a region and a store, shows core errors inline in Chinese", async () => {
    await go("org");
    await session.click("unit-HQ");
    await session.choose("org-add-kind", "region");
    await session.fill("org-add-code", "EAST");
    await session.fill("org-add-name", "华东区");
    await session.click("org-add-submit");
    await session.click("unit-EAST");
    await waitFor(async () => (await session.text("org-panel")).includes("华东区"), { what: "EAST selected" });

    await session.choose("org-add-kind", "store");
    await session.fill("org-add-code", "XH");
    await session.fill("org-add-name", "西湖校区");
    await session.click("org-add-submit");
    await session.byTestId("unit-XH");

    // The same code again: the core says conflict; the window says so in Chinese.
    await session.click("unit-HQ");
    await session.choose("org-add-kind", "region");
    await session.fill("org-add-code", "EAST");
    await session.fill("org-add-name", "重复的区域");
    await session.click("org-add-submit");
    const error = await session.byTestId("org-error");
    assert.equal(await error.attribute("data-code"), "conflict");
    assert.match(await error.text(), /冲突/);

    // A second region with a store first put under the wrong region, then moved.
    await session.click("unit-HQ");
    await session.choose("org-add-kind", "region");
    await session.fill("org-add-code", "WEST");
    await session.fill("org-add-name", "西南区");
    await session.click("org-add-submit");
    await session.byTestId("unit-WEST");
    await session.click("unit-EAST");
    await session.choose("org-add-kind", "store");
    await session.fill("org-add-code", "CD");
    await session.fill("org-add-name", "成都锦江校区");
    await session.click("org-add-submit");
    await session.click("unit-CD");
    await session.choose("org-move-parent", "WEST");
    await session.click("org-move-submit");
    await waitFor(
      async () =>
        session.execute(`const items = [...document.querySelectorAll('[data-testid^="unit-"]')].map((n) => n.dataset.testid);
                         return items.indexOf("unit-CD") > items.indexOf("unit-WEST");`),
      { what: "CD under WEST" },
    );

    // Rename the store.
    await session.click("unit-XH");
    await session.fill("org-rename-name", "西湖旗舰校区");
    await session.click("org-rename-submit");
    await waitFor(async () => (await session.text("unit-XH")).includes("西湖旗舰校区"), { what: "renamed store" });
    await shot("02-organisation-zh");
  });

  test("terms and classes: adds the term and a class at the store", async () => {
    await go("classes");
    // Dates typed as the roster import reads them: 2026年9月1日, 2027/1/20.
    await session.fill("term-name", "2026秋季学期");
    await session.fill("term-start", "2026年9月1日");
    await session.fill("term-end", "2027/1/20");
    await session.click("term-submit");
    await waitFor(async () => (await session.text("term-list")).includes("2026秋季学期"), { what: "term listed" });
    const termRow = await session.text("term-list");
    assert.match(termRow, /2026秋季学期\s*2026-09-01\s*2027-01-20/, "the typed dates read as the calendar dates");

    await session.choose("class-store", "XH");
    await session.choose("class-term", "2026秋季学期");
    await session.fill("class-name", "一班");
    await session.click("class-submit");
    await waitFor(async () => (await count('[data-testid="class-row"]')) === 1, { what: "class listed" });

    // A bad date is refused with a Chinese sentence.
    await session.fill("term-name", "坏日期学期");
    await session.fill("term-start", "2026/13/01");
    await session.fill("term-end", "2027-01-20");
    await session.click("term-submit");
    assert.equal(await attr("term-error", "data-code"), "validation");
    await shot("03-classes-zh");
  });

  test("roster wizard: preview shows every row error, the mapping is fixed, valid rows commit", async () => {
    const roster = writeRoster();
    await go("members");
    await session.click("tab-import");
    await session.fill("roster-path", roster);
    await session.click("roster-path-use");
    await waitFor(async () => (await session.text("roster-file")) === roster, { what: "the file chosen" });
    await session.choose("roster-unit", "HQ");
    await session.choose("roster-term", "2026秋季学期");
    await session.click("roster-preview");
    await session.byTestId("preview-error", 30000);

    // 家长微信 is not a known header, so the required guardian phone column is missing: the
    // core refuses the file, and the wizard lets the user name the column.
    assert.equal(await attr("preview-error", "data-code"), "import_format");
    assert.match(await session.text("preview-error"), /无法读取此文件/);
    await session.fill("map-manual-header", "家长微信");
    await session.choose("map-manual-field", "guardian_phone");
    await session.click("map-manual-apply");
    await waitFor(async () => (await attr("preview-summary", "data-rejected")) === "4", { what: "preview with the mapping" });

    // The mapping is editable: ignoring 入学日期 drops the date problem; mapping it back restores it.
    const columnOf = (header) =>
      session.execute(
        `return [...document.querySelectorAll('[data-testid="preview-mapping"] select')].find((s) => s.closest("label").querySelector(".map-header").textContent === arguments[0])?.dataset.testid`,
        [header],
      );
    const dateColumn = await columnOf("入学日期");
    assert.ok(dateColumn, "the 入学日期 column is listed in the mapping");
    assert.equal(await (await session.byTestId(await columnOf("家长微信"))).attribute("value"), "guardian_phone");
    await session.choose(dateColumn, "");
    await session.click("roster-repreview");
    await waitFor(async () => (await attr("preview-summary", "data-rejected")) === "3", { what: "re-preview without dates" });
    await session.choose(dateColumn, "enrolled_on");
    await session.click("roster-repreview");
    await waitFor(async () => (await attr("preview-summary", "data-rejected")) === "4", { what: "re-preview with dates" });
    const problems = await session.execute(
      `return [...document.querySelectorAll('[data-testid="preview-error-row"]')].map((r) => r.dataset.row + ":" + r.dataset.code)`,
    );
    assert.deepEqual(problems.sort(), ["10:required", "11:date_invalid", "8:phone_invalid", "9:unknown_class"].sort());
    assert.match(await session.text("preview-errors"), /手机号无效/);
    await session.execute(`document.querySelector('[data-testid="preview-mapping"]').scrollIntoView({ block: "start" })`);
    await shot("04-import-preview-zh");

    await session.click("mode-valid");
    await session.click("roster-commit");
    const result = await session.byTestId("import-result", 60000);
    assert.equal(await result.attribute("data-committed"), "true");
    assert.equal(await result.attribute("data-imported"), "6");
    await session.byTestId("save-errors");
    await shot("05-import-result-zh");
  });

  test("members: finds the imported members, filters, masks the phone", async () => {
    await session.click("tab-list");
    await waitFor(async () => (await attr("member-total", "data-total")) === "6", { what: "6 members" });
    await waitFor(async () => (await count('[data-testid="member-row"]')) === 6, { what: "6 rows" });
    const text = await session.execute(`return document.querySelector('[data-testid="member-list"]').textContent`);
    assert.match(text, /王小明/);
    assert.match(text, /138\*\*\*\*8001/, "phones are masked");
    assert.doesNotMatch(text, /13800138001/);

    await session.fill("member-search", "李小红");
    await waitFor(async () => (await attr("member-total", "data-total")) === "1", { what: "search hit" });
    await session.fill("member-search", "");
    await session.choose("member-status", "withdrawn");
    await waitFor(async () => (await attr("member-total", "data-total")) === "1", { what: "status filter" });
    await session.choose("member-status", "");
    await waitFor(async () => (await attr("member-total", "data-total")) === "6", { what: "filters cleared" });
    await shot("06-members-zh");

    await go("dashboard");
    await waitFor(async () => (await session.text("count-members")).startsWith("6"), { what: "dashboard counts" });
    await shot("07-dashboard-zh");
  });

  test("switches to English and back, and remembers the choice", async () => {
    await session.click("lang-toggle");
    await waitFor(async () => (await navText("dashboard")) === "Dashboard", { what: "English nav" });
    assert.equal(await navText("reconcile"), "Reconciliation");
    assert.equal(await session.execute("return localStorage.getItem('feedesk.lang')"), "en");
    assert.match(await session.text("count-stores"), /Stores/);
    await shot("08-dashboard-en");
    await go("members");
    assert.equal(await session.text("tab-import"), "Import roster");
    await waitFor(async () => (await session.text("member-total")) === "6 members", { what: "English total" });
    await shot("09-members-en");

    // Reload the page: a fresh document must come back in English (from localStorage).
    await session.execute("window.__beforeReload = true; setTimeout(() => location.reload(), 0)");
    await waitFor(async () => (await session.execute("return window.__beforeReload === undefined")) === true, {
      timeoutMs: 20000,
      what: "the page to reload",
    });
    await waitFor(async () => (await navText("dashboard")) === "Dashboard", { what: "English after reload" });

    await session.click("lang-toggle");
    await waitFor(async () => (await navText("dashboard")) === "概览", { what: "Chinese nav" });
  });

  test("import history: the batch can be undone", async () => {
    await go("members");
    await session.click("tab-history");
    await waitFor(async () => (await count('[data-testid="history-row"]')) === 1, { what: "one batch" });
    // The time is the institution's (UTC+8), not the stored UTC.
    const when = await session.byTestId("history-when");
    const utc = new Date(await when.attribute("data-utc"));
    const local = new Date(utc.getTime() + 8 * 3600 * 1000).toISOString();
    assert.equal(await when.text(), `${local.slice(0, 10)} ${local.slice(11, 16)}`);
    const undo = await session.find('[data-testid^="undo-"]');
    await undo.click();
    // Undoing removes members: the window says so before doing it.
    assert.match(await session.text("undo-confirm-dialog-text"), /撤销批次 #\d+（.+）：删除本批新增的 \d+ 名成员/);
    assert.equal(await count('[data-testid="undo-done"]'), 0, "nothing undone before confirming");
    await session.click("undo-confirm-dialog-confirm");
    await session.byTestId("undo-done");
    await session.click("tab-list");
    await waitFor(async () => (await attr("member-total", "data-total")) === "0", { what: "members removed" });
  });

  test("a long import shows its progress and can be cancelled, leaving nothing behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "feedesk-e2e-big-"));
    const lines = ["学号,姓名,校区,家长手机号码"];
    for (let i = 0; i < 200000; i++) {
      lines.push(`B${String(i).padStart(6, "0")},学员${i},XH,139${String(i).padStart(8, "0")}`);
    }
    const file = join(dir, "big.csv");
    writeFileSync(file, lines.join("\n") + "\n");
    await go("members");
    await session.click("tab-import");
    await session.fill("roster-path", file);
    await session.click("roster-path-use");
    await waitFor(async () => (await session.text("roster-file")) === file, { what: "the big file chosen" });
    await session.choose("roster-unit", "HQ");
    await session.click("roster-preview");
    await waitFor(async () => (await attr("preview-summary", "data-rejected")) === "0", {
      what: "the preview of 200,000 rows",
      timeoutMs: 120000,
    });
    await session.click("mode-all");
    await session.click("roster-commit");
    await session.byTestId("import-progress", 30000);
    await session.click("import-cancel");
    const error = await session.byTestId("import-error", 120000);
    assert.equal(await error.attribute("data-code"), "cancelled");
    await session.click("tab-list");
    await waitFor(async () => (await attr("member-total", "data-total")) === "0", { what: "nothing imported" });
  });
});
