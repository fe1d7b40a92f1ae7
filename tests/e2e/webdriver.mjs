// A minimal W3C WebDriver client over fetch: just what the e2e tests need, no dependencies.
// Spec: https://www.w3.org/TR/webdriver2/
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    super(`${method} ${path} -> ${status}: ${value?.error ?? ""} ${value?.message ?? JSON.stringify(value)}`);
    this.status = status;
    this.code = value?.error;
  }
}

const debug = Boolean(process.env.E2E_DEBUG);

async function request(base, method, path, body, timeoutMs = 30000) {
  const started = Date.now();
  if (debug) console.error(`webdriver> ${method} ${path} ${body === undefined ? "" : JSON.stringify(body)}`);
  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new WebDriverError(method, path, "no response", { message: `${error.name}: ${error.message}` });
  }
  if (debug) console.error(`webdriver< ${method} ${path} ${response.status} (${Date.now() - started} ms)`);
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new WebDriverError(method, path, response.status, { message: text.slice(0, 300) });
  }
  if (!response.ok) throw new WebDriverError(method, path, response.status, json.value);
  return json.value;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(probe, { timeoutMs = 15000, intervalMs = 150, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`);
}

/** Waits until the driver at `base` answers /status. */
export async function waitForDriver(base, timeoutMs = 20000) {
  await waitFor(() => request(base, "GET", "/status", undefined, 2000).then(() => true), {
    timeoutMs,
    what: `WebDriver at ${base}`,
  });
}

export class Session {
  static async start(base, capabilities) {
    // Creating a session launches the app: allow for a cold start.
    const value = await request(base, "POST", "/session", { capabilities: { alwaysMatch: capabilities } }, 90000);
    return new Session(base, value.sessionId);
  }

  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  cmd(method, path = "", body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async end() {
    await this.cmd("DELETE");
  }

  /** The element matching a CSS selector now, or a WebDriverError `no such element`. */
  async find(selector) {
    const value = await this.cmd("POST", "/element", { using: "css selector", value: selector });
    return new Element(this, value[ELEMENT]);
  }

  async findAll(selector) {
    const values = await this.cmd("POST", "/elements", { using: "css selector", value: selector });
    return values.map((value) => new Element(this, value[ELEMENT]));
  }

  /** Waits for a `[data-testid=...]` element to exist and be displayed. */
  async byTestId(testId, timeoutMs) {
    return waitFor(
      async () => {
        const element = await this.find(`[data-testid="${testId}"]`);
        return (await element.displayed()) ? element : null;
      },
      { timeoutMs, what: `data-testid=${testId}` },
    );
  }

  title() {
    return this.cmd("GET", "/title");
  }

  /** Clears the input with this test id and types `text` into it. */
  async fill(testId, text) {
    const element = await this.byTestId(testId);
    if (text) {
      await element.clear();
      await element.type(text);
    } else {
      // WebDriver's clear fires no input event (and would hide the change from React's value
      // tracker); empty the field the way deleting its text does.
      await this.execute(
        `const el = document.querySelector('[data-testid="' + arguments[0] + '"]');
         Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(el, "");
         el.dispatchEvent(new Event("input", { bubbles: true }));`,
        [testId],
      );
    }
    return element;
  }

  /** Picks `value` in the <select> with this test id (as a user's choice: a bubbling change event). */
  async choose(testId, value) {
    await this.byTestId(testId);
    const ok = await this.execute(
      `const el = document.querySelector('[data-testid="' + arguments[0] + '"]');
       if (![...el.options].some((o) => o.value === arguments[1])) return false;
       Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, "value").set.call(el, arguments[1]);
       el.dispatchEvent(new Event("change", { bubbles: true }));
       return true;`,
      [testId, value],
    );
    if (!ok) throw new Error(`select ${testId} has no option ${value}`);
  }

  /** Clicks the element with this test id once it is displayed. */
  async click(testId, timeoutMs) {
    await (await this.byTestId(testId, timeoutMs)).click();
  }

  /** The visible text of the element with this test id. */
  async text(testId, timeoutMs) {
    return (await this.byTestId(testId, timeoutMs)).text();
  }

  execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /** Runs an async script: it gets a callback as its last argument and calls it with the result. */
  executeAsync(script, args = [], timeoutMs = 60000) {
    return request(this.base, "POST", `/session/${this.id}/execute/async`, { script, args }, timeoutMs);
  }

  /** Sets the script timeout (ms) for executeAsync. */
  setScriptTimeout(ms) {
    return this.cmd("POST", "/timeouts", { script: ms });
  }

  /** PNG bytes of the whole window. */
  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }
}

export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.session.cmd(method, `/element/${this.id}${path}`, body);
  }

  click() {
    return this.cmd("POST", "/click", {});
  }

  text() {
    return this.cmd("GET", "/text");
  }

  attribute(name) {
    return this.cmd("GET", `/attribute/${encodeURIComponent(name)}`);
  }

  displayed() {
    return this.cmd("GET", "/displayed");
  }

  clear() {
    return this.cmd("POST", "/clear", {});
  }

  /** Types `text` into the element (W3C Element Send Keys). */
  type(text) {
    return this.cmd("POST", "/value", { text });
  }
}
