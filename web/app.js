// The chat page: conversations (store.js), the OpenAI routes (api.js), safe rendering of model output
// (render.js). Plain DOM, no framework: the page is small and must load fast from the binary itself.
import { ApiError, listModels, streamChat } from './api.js';
import { copyText, renderMarkdown } from './render.js';
import { Store, apiKey, loadSettings, saveSettings, setApiKey } from './store.js';

const $ = (id) => document.getElementById(id);
const store = new Store();
let settings = loadSettings();  // the user's overrides: {model, system, temperature, top_p, max_tokens}
let models = [];
let running = null;  // {controller, timer} while a request (or a retry countdown) is in flight

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

// ---- notices and model state ----

function notice(text, actions = []) {
  const n = $('notice');
  n.replaceChildren(el('span', {}, text), ...actions);
  n.hidden = !text;
}

function currentModel() {
  return models.find((m) => m.id === $('model').value) ?? null;
}

function describeState(m) {
  if (!m) return '';
  return { loaded: 'ready', loading: 'loading…', unloading: 'unloading…', unloaded: 'loads on first message' }[
    m.state ?? 'loaded'] ?? m.state;
}

function showModelState(extra) {
  $('model-state').textContent = extra ?? describeState(currentModel());
}

async function refreshModels() {
  try {
    models = await listModels();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return askKey(e.message).then(refreshModels);
    notice(`Could not list the models: ${e.message}`);
    return;
  }
  const sel = $('model');
  const want = sel.value || settings.model;
  sel.replaceChildren(
    ...models.map((m) => el('option', { value: m.id }, models.length > 1 ? `${m.id} (${describeState(m)})` : m.id)),
  );
  if (models.some((m) => m.id === want)) sel.value = want;
  showModelState();
  fillSettings();
}

// ---- settings: the user's overrides over the model's generation_config.json ----

function modelDefaults() {
  return currentModel()?.r1serve?.generation_config ?? {};
}

function effective(name) {
  return settings[name] ?? modelDefaults()[name];
}

function fillSettings() {
  const d = modelDefaults();
  $('system').value = settings.system ?? '';
  $('temperature').value = effective('temperature') ?? '';
  $('top-p').value = effective('top_p') ?? '';
  $('max-tokens').value = settings.max_tokens ?? '';
  $('temperature').placeholder = $('top-p').placeholder = 'model default';
  const parts = Object.entries(d).map(([k, v]) => `${k} ${v}`);
  $('defaults-note').textContent = parts.length
    ? `Model defaults (generation_config.json): ${parts.join(', ')}.`
    : 'The model has no sampling defaults listed yet (it has not loaded); empty fields use the server’s.';
  $('settings-key').value = apiKey();
}

function readSettingsForm() {
  const num = (id) => {
    const v = $(id).value.trim();
    return v === '' ? undefined : Number(v);
  };
  const d = modelDefaults();
  const t = num('temperature');
  const p = num('top-p');
  settings = {
    model: $('model').value,
    system: $('system').value,
    // Equal to the model's default: not an override, so another model's default applies after a switch.
    temperature: t === d.temperature ? undefined : t,
    top_p: p === d.top_p ? undefined : p,
    max_tokens: num('max-tokens'),
  };
  saveSettings(settings);
  setApiKey($('settings-key').value.trim());
}

// ---- API key prompt (on 401) ----

function askKey(message) {
  return new Promise((resolve) => {
    const d = $('key-dialog');
    $('key-error').hidden = !apiKey();
    $('key-error').textContent = apiKey() ? `The server refused the key: ${message}` : '';
    $('api-key').value = '';
    d.onclose = () => {
      setApiKey($('api-key').value.trim());
      resolve();
    };
    d.showModal();
    $('api-key').focus();
  });
}

// ---- conversations list ----

function renderList() {
  const ul = $('conversations');
  ul.replaceChildren(
    ...store.conversations.map((c) => {
      const current = c.id === store.currentId;
      const open = el('button', { type: 'button', class: 'conv-title', onclick: () => selectConversation(c.id) }, c.title);
      if (current) open.setAttribute('aria-current', 'true');
      const rename = el('button', {
        type: 'button', class: 'icon', 'aria-label': `Rename “${c.title}”`, title: 'Rename',
        onclick: () => startRename(li, c),
      }, '✎');
      const del = el('button', {
        type: 'button', class: 'icon', 'aria-label': `Delete “${c.title}”`, title: 'Delete',
        onclick: () => {
          if (!confirm(`Delete “${c.title}”?`)) return;
          store.remove(c.id);
          renderList();
          renderMessages();
        },
      }, '✕');
      const li = el('li', { class: current ? 'current' : '' }, open, rename, del);
      return li;
    }),
  );
}

function startRename(li, c) {
  const input = el('input', { type: 'text', class: 'rename', 'aria-label': 'New title' });
  input.value = c.title;
  const done = (keep) => {
    if (keep) store.rename(c.id, input.value);
    renderList();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') done(true);
    if (e.key === 'Escape') {
      e.stopPropagation();
      done(false);
    }
  });
  input.addEventListener('blur', () => done(true));
  li.replaceChildren(input);
  input.focus();
  input.select();
}

function selectConversation(id) {
  if (running) stop();
  store.select(id);
  renderList();
  renderMessages();
  document.body.classList.remove('list-open');
  $('toggle-list').setAttribute('aria-expanded', 'false');
  $('prompt').focus();
}

// ---- messages ----

function statsLine(s) {
  if (!s) return [];
  const parts = [];
  if (s.ttft_ms != null) parts.push(el('span', { class: 'ttft' }, `TTFT ${Math.round(s.ttft_ms)} ms`));
  if (s.tokens_per_s != null) parts.push(el('span', { class: 'tps' }, `${s.tokens_per_s.toFixed(1)} tokens/s`));
  if (s.prompt_tokens != null)
    parts.push(el('span', { class: 'tokens' }, `${s.prompt_tokens} prompt + ${s.completion_tokens} completion tokens`));
  if (s.stopped) parts.push(el('span', { class: 'stopped' }, 'stopped'));
  return parts;
}

function thoughtLabel(m) {
  return m.thought_s != null ? `Thought for ${Math.max(1, Math.round(m.thought_s))} s` : 'Thinking…';
}

// One message's element; `live` (assistant only) gets the handles the stream updates.
function messageView(m, index, conv) {
  if (m.role === 'user') {
    const body = el('div', { class: 'content plain' }, m.content);
    const edit = el('button', { type: 'button', class: 'edit', onclick: () => startEdit(art, index) }, 'Edit');
    const art = el('article', { class: 'msg user', 'aria-label': 'You' }, body, el('div', { class: 'actions' }, edit));
    return { art };
  }
  const art = el('article', { class: 'msg assistant', 'aria-label': 'Assistant' });
  const think = el('details', { class: 'thinking' });
  const summary = el('summary', {}, thoughtLabel(m));
  const thinkBody = el('div', { class: 'thinking-body' }, m.reasoning ?? '');
  think.append(summary, thinkBody);
  think.hidden = !m.reasoning;
  think.open = !!m.reasoning && m.thought_s == null;
  const content = el('div', { class: 'content markdown' });
  if (m.content) renderMarkdown(content, m.content);
  const stats = el('p', { class: 'stats' }, ...statsLine(m.stats));
  const last = index === conv.messages.length - 1;
  const actions = el('div', { class: 'actions' },
    el('button', { type: 'button', class: 'copy', onclick: (e) => copyText(m.content, e.target) }, 'Copy'));
  if (last)
    actions.append(el('button', { type: 'button', class: 'regenerate', onclick: () => regenerate() }, 'Regenerate'));
  if (m.error) art.append(el('p', { class: 'error' }, m.error));
  art.prepend(think, content, stats, actions);
  return { art, think, summary, thinkBody, content, stats, actions };
}

function renderMessages() {
  const conv = store.current();
  const box = $('messages');
  box.replaceChildren(...conv.messages.map((m, i) => messageView(m, i, conv).art));
  if (!conv.messages.length)
    box.append(el('p', { class: 'empty' }, 'Ask anything. The model’s reasoning shows up as it thinks.'));
  box.scrollTop = box.scrollHeight;
}

function startEdit(art, index) {
  if (running) return;
  const conv = store.current();
  const m = conv.messages[index];
  const area = el('textarea', { class: 'edit-box', 'aria-label': 'Edit your message', rows: '3' });
  area.value = m.content;
  const send = el('button', { type: 'button', class: 'resend', onclick: () => {
    const text = area.value.trim();
    if (!text) return;
    m.content = text;
    conv.messages.length = index + 1;  // what followed answered the old text
    store.touch(conv);
    renderMessages();
    generate();
  } }, 'Send');
  const cancel = el('button', { type: 'button', onclick: () => renderMessages() }, 'Cancel');
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send.click();
    } else if (e.key === 'Escape') {
      e.stopPropagation();
      renderMessages();
    }
  });
  art.replaceChildren(area, el('div', { class: 'actions' }, send, cancel));
  area.focus();
}

// ---- generation ----

function setBusy(busy) {
  $('send').hidden = busy;
  $('stop').hidden = !busy;
  document.body.classList.toggle('busy', busy);
}

function requestBody(conv) {
  const messages = [];
  if (settings.system?.trim()) messages.push({ role: 'system', content: settings.system });
  // Earlier answers go back without their reasoning, as DeepSeek advises for R1.
  for (const m of conv.messages) if (m.content) messages.push({ role: m.role, content: m.content });
  const body = { model: $('model').value || undefined, messages };
  for (const k of ['temperature', 'top_p']) if (effective(k) != null) body[k] = effective(k);
  if (settings.max_tokens) body.max_tokens = settings.max_tokens;
  return body;
}

async function generate() {
  const conv = store.current();
  const m = { role: 'assistant', content: '', reasoning: '', model: $('model').value };
  conv.messages.push(m);
  renderMessages();
  const view = messageView(m, conv.messages.length - 1, conv);
  $('messages').lastElementChild.replaceWith(view.art);
  view.think.open = true;

  const controller = new AbortController();
  running = { controller };
  setBusy(true);
  notice('');
  const t0 = performance.now();
  let tFirst = null, tAnswer = null, frame = 0, usage = null, reasoningStart = null;
  const paint = () => {
    frame = 0;
    if (m.reasoning) {
      view.think.hidden = false;
      view.thinkBody.textContent = m.reasoning;
    }
    if (m.content) renderMarkdown(view.content, m.content);
    const box = $('messages');
    box.scrollTop = box.scrollHeight;
  };
  try {
    const finish = await streamChat(requestBody(conv), controller.signal, (d) => {
      const now = performance.now();
      tFirst ??= now;
      if (d.reasoning) {
        reasoningStart ??= now;
        m.reasoning += d.reasoning;
      }
      if (d.content) {
        if (tAnswer === null) {
          tAnswer = now;
          if (m.reasoning) {
            // The answer starts: the reasoning folds away, with how long it took.
            m.thought_s = (now - (reasoningStart ?? t0)) / 1000;
            view.think.open = false;
            view.summary.textContent = thoughtLabel(m);
          }
        }
        m.content += d.content;
      }
      frame ||= requestAnimationFrame(paint);
    }, (u) => (usage = u));
    m.finish_reason = finish;
  } catch (e) {
    if (e.name === 'AbortError') {
      m.stopped = true;
    } else {
      conv.messages.pop();  // nothing (or a failed start) to keep: the request can be sent again
      running = null;
      setBusy(false);
      store.touch(conv);
      renderMessages();
      return handleError(e);
    }
  } finally {
    if (frame) cancelAnimationFrame(frame);
  }
  const tEnd = performance.now();
  if (m.reasoning && m.thought_s == null) m.thought_s = (tEnd - (reasoningStart ?? t0)) / 1000;
  m.stats = { ttft_ms: tFirst === null ? null : tFirst - t0, stopped: !!m.stopped };
  if (usage) {
    m.stats.prompt_tokens = usage.prompt_tokens;
    m.stats.completion_tokens = usage.completion_tokens;
    // Decode speed: the tokens after the first over the time after it.
    const span = (tEnd - (tFirst ?? t0)) / 1000;
    if (usage.completion_tokens > 1 && span > 0) m.stats.tokens_per_s = (usage.completion_tokens - 1) / span;
  }
  running = null;
  setBusy(false);
  store.touch(conv);
  renderList();
  renderMessages();
  refreshModels();
}

// A refused request, explained; a model that is loading is waited for (Retry-After) and asked again.
function handleError(e) {
  if (!(e instanceof ApiError)) return notice(`The request failed: ${e.message}`);
  if (e.status === 401) return askKey(e.message).then(() => { refreshModels(); generate(); });
  if (e.status === 503 && e.code === 'model_not_ready') {
    let left = Math.max(1, e.retryAfter ?? 2);
    const controller = new AbortController();
    running = { controller };
    setBusy(true);
    const tick = () => {
      if (controller.signal.aborted) return;
      if (left <= 0) {
        running = null;
        setBusy(false);
        notice('');
        generate();
        return;
      }
      const text = `${$('model').value} is loading… retrying in ${left} s`;
      notice(text);
      showModelState(`loading… retry in ${left} s`);
      left -= 1;
      running.timer = setTimeout(tick, 1000);
    };
    controller.signal.addEventListener('abort', () => {
      clearTimeout(running?.timer);
      running = null;
      setBusy(false);
      notice('Stopped waiting for the model.');
      showModelState();
    });
    return tick();
  }
  const retry = el('button', { type: 'button', onclick: () => { notice(''); generate(); } }, 'Retry');
  const wait = e.retryAfter ? ` Try again in ${e.retryAfter} s.` : '';
  if (e.status === 429)
    return notice(`The server is busy: too many requests at once (429).${wait} ${e.message}`, [retry]);
  if (e.status === 503) return notice(`The server cannot answer now (503).${wait} ${e.message}`, [retry]);
  return notice(`The server refused the request (${e.status}): ${e.message}`, [retry]);
}

function stop() {
  running?.controller.abort();
}

function send() {
  const text = $('prompt').value.trim();
  if (!text || running) return;
  const conv = store.current();
  conv.messages.push({ role: 'user', content: text });
  store.touch(conv);
  $('prompt').value = '';
  renderList();
  generate();
}

function regenerate() {
  if (running) return;
  const conv = store.current();
  if (conv.messages.at(-1)?.role === 'assistant') conv.messages.pop();
  if (!conv.messages.length) return;
  store.touch(conv);
  generate();
}

function exportAll() {
  const blob = new Blob([store.exportJSON()], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `r1serve-chats-${Date.now()}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ---- wiring ----

function init() {
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && running && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      stop();
    }
  });
  $('stop').addEventListener('click', stop);
  $('new-chat').addEventListener('click', () => {
    if (running) stop();
    store.create();
    renderList();
    renderMessages();
    $('prompt').focus();
  });
  $('export').addEventListener('click', exportAll);
  $('toggle-list').addEventListener('click', () => {
    const open = document.body.classList.toggle('list-open');
    $('toggle-list').setAttribute('aria-expanded', String(open));
  });
  $('model').addEventListener('change', () => {
    settings.model = $('model').value;
    saveSettings(settings);
    showModelState();
    fillSettings();
  });
  $('open-settings').addEventListener('click', () => {
    fillSettings();
    $('settings').showModal();
  });
  $('settings').addEventListener('close', () => {
    readSettingsForm();
    refreshModels();
  });
  $('reset-settings').addEventListener('click', () => {
    settings = { model: $('model').value, system: $('system').value };
    saveSettings(settings);
    fillSettings();
  });
  renderList();
  renderMessages();
  refreshModels().finally(() => {
    performance.mark('r1serve-interactive');
    document.body.dataset.ready = 'true';
  });
  $('prompt').focus();
}

init();
