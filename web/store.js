// Conversations and settings, kept in this browser's localStorage (nothing leaves the machine but the
// requests to this server). One JSON document per key, versioned so a later page can migrate it.
const KEY = 'r1serve.chat.v1';
const SETTINGS = 'r1serve.settings.v1';
const API_KEY = 'r1serve.apiKey';

function read(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key));
    return v ?? fallback;
  } catch {
    return fallback;  // a damaged entry starts afresh rather than breaking the page
  }
}

export function newId() {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
}

export class Store {
  constructor() {
    const s = read(KEY, {});
    this.conversations = Array.isArray(s.conversations) ? s.conversations : [];
    this.currentId = s.currentId ?? null;
    if (!this.current()) this.create();
  }

  save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({ conversations: this.conversations, currentId: this.currentId }));
    } catch (e) {
      console.warn('localStorage is full or disabled: the conversation is not kept', e);
    }
  }

  current() {
    return this.conversations.find((c) => c.id === this.currentId) ?? null;
  }

  create() {
    const c = { id: newId(), title: 'New chat', created: Date.now(), updated: Date.now(), messages: [] };
    this.conversations.unshift(c);
    this.currentId = c.id;
    this.save();
    return c;
  }

  select(id) {
    if (this.conversations.some((c) => c.id === id)) this.currentId = id;
    this.save();
  }

  rename(id, title) {
    const c = this.conversations.find((x) => x.id === id);
    if (c && title.trim()) c.title = title.trim().slice(0, 120);
    this.save();
  }

  remove(id) {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    if (this.currentId === id) this.currentId = this.conversations[0]?.id ?? null;
    if (!this.current()) this.create();
    this.save();
  }

  touch(c) {
    c.updated = Date.now();
    if (c.title === 'New chat') {
      const first = c.messages.find((m) => m.role === 'user');
      if (first) c.title = first.content.replace(/\s+/g, ' ').trim().slice(0, 60) || 'New chat';
    }
    this.save();
  }

  exportJSON() {
    return JSON.stringify({ exported: new Date().toISOString(), conversations: this.conversations }, null, 2);
  }
}

export function loadSettings() {
  return read(SETTINGS, {});
}
export function saveSettings(s) {
  localStorage.setItem(SETTINGS, JSON.stringify(s));
}
export function apiKey() {
  return localStorage.getItem(API_KEY) ?? '';
}
export function setApiKey(k) {
  if (k) localStorage.setItem(API_KEY, k);
  else localStorage.removeItem(API_KEY);
}
