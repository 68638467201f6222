// artisto playground: the chat page. Plain JavaScript, no build step.
// It talks to /ui/* on the emulator: reads chats, long-polls /ui/events for messages,
// edits and answers, and acts as one of the simulated people.
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "innerHTML") node.innerHTML = value; // only ever given escaped markup
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
};

// replaceChildren() would print null and arrays; this skips the one and flattens the other.
const fill = (node, ...children) => {
  node.replaceChildren();
  node.append(...children.flat(2).filter((c) => c !== null && c !== undefined && c !== false));
};

const ACTIONS = {
  typing: "is typing…",
  upload_photo: "is sending a photo…",
  upload_video: "is sending a video…",
  record_video: "is recording a video…",
  upload_video_note: "is sending a video message…",
  record_video_note: "is recording a video message…",
  upload_document: "is sending a file…",
  choose_sticker: "is choosing a sticker…",
};
const COLOURS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
const PROGRESS = /(\d{1,3}(?:[.,]\d+)?)\s?%/;

const app = {
  bot: null,
  people: [],
  chats: [],
  samples: [],
  me: null,
  chatId: null,
  cursor: 0,
  messages: new Map(), // message_id -> {message, hidden}
  unread: new Map(),
  replyTo: null,
  attachment: null, // {file?: File, sample?: name, name, kind, previewUrl}
  inline: { queryId: null, timer: null, text: "" },
  pressed: new Map(), // callback_query_id -> button element
  actionTimer: null,
};

// --- server ------------------------------------------------------------------------------

async function api(path, options = {}) {
  const init = { ...options };
  if (options.json !== undefined) {
    init.method = "POST";
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(options.json);
    delete init.json;
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function upload(form, onProgress) {
  // XMLHttpRequest, not fetch: only it reports upload progress.
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/ui/send");
    request.responseType = "json";
    request.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    request.onload = () => {
      const body = request.response || {};
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new Error(body.error || `${request.status} ${request.statusText}`));
    };
    request.onerror = () => reject(new Error("the playground is not reachable"));
    request.send(form);
  });
}

// --- people and chats --------------------------------------------------------------------

const person = (id) => app.people.find((p) => p.id === id);
const chat = (id) => app.chats.find((c) => c.id === id);
const myChats = () => app.chats.filter((c) => c.member_ids.includes(app.me));
const colourOf = (id) => COLOURS[Math.abs(id) % COLOURS.length];
const initials = (name) => (name || "?").trim().slice(0, 1).toUpperCase();
const isBot = (user) => user && app.bot && user.id === app.bot.id;

function chatTitle(c) {
  return c.type === "private" ? app.bot.first_name : c.title;
}

function renderSidebar() {
  $("who").replaceChildren(
    ...app.people.map((p) =>
      el(
        "button",
        {
          type: "button",
          role: "radio",
          "aria-checked": String(p.id === app.me),
          onclick: () => becomePerson(p.id),
        },
        el("span", { class: "avatar", style: `--avatar:${colourOf(p.id)};width:30px;height:30px;font-size:13px` }, initials(p.first_name)),
        el("span", {}, p.first_name, el("small", {}, `${p.language_code} · id ${p.id}`)),
      ),
    ),
  );
  $("chatList").replaceChildren(
    ...myChats().map((c) => {
      const unread = app.unread.get(c.id) || 0;
      const avatar = c.type === "private" ? "🎨" : "👥";
      const sub = c.type === "private" ? `@${app.bot.username} · private chat` : `group · ${c.member_ids.length + 1} members`;
      return el(
        "li",
        {},
        el(
          "button",
          { type: "button", "aria-current": String(c.id === app.chatId), onclick: () => openChat(c.id) },
          el("span", { class: "avatar", style: `--avatar:${c.type === "private" ? "#3a8ee6" : "#7bc862"}` }, avatar),
          el("span", { class: "names" }, chatTitle(c), el("small", {}, sub)),
          unread ? el("span", { class: "unread" }, unread) : null,
        ),
      );
    }),
  );
  const c = chat(app.chatId);
  const hint = $("sideHint");
  hint.replaceChildren();
  if (c && c.type !== "private" && app.privacyMode) {
    hint.append(
      el("p", {}, "Privacy mode is on: in groups the bot sees only commands and replies to its own messages."),
      el("p", {}, "Send a photo, then reply to it with /art."),
    );
  } else {
    hint.append(el("p", {}, "Send a photo or a short video, pick a style, watch the edits arrive."));
  }
  hint.append(el("p", {}, `Inline mode: type @${app.bot.username} and a word in the message box.`));
}

function becomePerson(id) {
  app.me = id;
  localStorage.setItem("artisto.me", String(id));
  const mine = myChats();
  const keep = mine.some((c) => c.id === app.chatId);
  openChat(keep ? app.chatId : mine[0].id);
}

async function openChat(id) {
  app.chatId = id;
  app.unread.delete(id);
  localStorage.setItem("artisto.chat", String(id));
  closeDrawer();
  cancelReply();
  hidePanels();
  renderSidebar();
  renderHeader();
  const history = await api(`/ui/history?chat_id=${id}`);
  if (app.chatId !== id) return;
  app.messages.clear();
  $("messages").replaceChildren();
  for (const item of history.messages) upsertMessage(item.message, item.hidden_from_bot, false);
  renderEmpty();
  scrollToBottom(true);
  loadCommands();
}

function renderHeader(status) {
  const c = chat(app.chatId);
  const me = person(app.me);
  $("chatTitle").textContent = chatTitle(c);
  const avatar = $("chatAvatar");
  avatar.textContent = c.type === "private" ? "🎨" : "👥";
  avatar.style.setProperty("--avatar", c.type === "private" ? "#3a8ee6" : "#7bc862");
  $("meBadge").textContent = `you are ${me.first_name}`;
  const line = $("chatStatus");
  line.classList.toggle("busy", Boolean(status));
  if (status) line.textContent = status;
  else if (c.type === "private") line.textContent = "bot";
  else line.textContent = [...c.member_ids.map((m) => person(m).first_name), app.bot.first_name].join(", ");
  $("text").placeholder = `Message as ${me.first_name}`;
}

// --- messages ----------------------------------------------------------------------------

function renderEmpty() {
  const box = $("messages");
  const empty = box.querySelector(".empty");
  if (app.messages.size > 0) {
    if (empty) empty.remove();
    return;
  }
  if (empty) return;
  const c = chat(app.chatId);
  box.append(
    el(
      "div",
      { class: "empty" },
      el("strong", {}, c.type === "private" ? `${app.bot.first_name} turns photos into paintings` : c.title),
      c.type === "private"
        ? "Start the bot, then send a photo or a short video."
        : "Send a photo, then reply to it with /art to stylize it here.",
      c.type === "private" ? el("div", {}, el("button", { class: "send-button", type: "button", onclick: () => sendText("/start") }, "START")) : null,
    ),
  );
}

function upsertMessage(message, hidden, animate = true) {
  const id = message.message_id;
  const existing = $("messages").querySelector(`[data-id="${id}"]`);
  app.messages.set(id, { message, hidden });
  const node = renderMessage(message, hidden);
  if (existing) {
    existing.replaceWith(node);
  } else {
    const pinnedToBottom = nearBottom();
    const next = [...$("messages").querySelectorAll(".msg")].find((n) => Number(n.dataset.id) > id);
    $("messages").insertBefore(node, next || null);
    renderEmpty();
    if (animate && (pinnedToBottom || message.from.id === app.me)) scrollToBottom();
  }
}

function removeMessage(id) {
  app.messages.delete(id);
  const node = $("messages").querySelector(`[data-id="${id}"]`);
  if (node) node.remove();
  renderEmpty();
}

function renderMessage(message, hidden) {
  const mine = message.from.id === app.me;
  const c = chat(app.chatId);
  const media = renderMedia(message);
  const text = message.text ?? message.caption;
  const entities = message.entities ?? message.caption_entities;
  const round = Boolean(message.video_note);
  // Time sits on top of a bare picture; a video keeps it below, clear of the controls.
  const bare = media && !text && !message.reply_to_message && !message.video && !message.document;
  const bubble = el(
    "div",
    { class: `bubble${bare ? " media-only" : ""}${round ? " round" : ""}` },
    message.reply_to_message ? renderQuote(message.reply_to_message) : null,
    media,
    text ? el("div", { class: "text", innerHTML: formatText(text, entities) }) : null,
    isBot(message.from) ? renderProgress(text) : null,
    el(
      "div",
      { class: "meta" },
      message.via_bot ? el("span", {}, `via @${message.via_bot.username}`) : null,
      message.edit_date ? el("span", {}, "edited") : null,
      el("time", {}, clock(message.edit_date || message.date)),
      el("button", { class: "reply-button", type: "button", title: "Reply", "aria-label": "Reply", onclick: () => startReply(message) }, "↩"),
    ),
  );
  bindTextActions(bubble);
  return el(
    "div",
    { class: `msg ${mine ? "out" : "in"}`, dataset: { id: message.message_id } },
    c.type !== "private" && !mine ? el("div", { class: "sender", style: `--name:${colourOf(message.from.id)}` }, senderName(message.from)) : null,
    bubble,
    message.reply_markup ? renderKeyboard(message) : null,
    hidden ? el("div", { class: "hidden-note" }, "not delivered to the bot (privacy mode)") : null,
  );
}

function senderName(user) {
  return isBot(user) ? `${user.first_name} (bot)` : user.first_name;
}

function clock(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

const fileUrl = (fileId) => `/ui/file/${encodeURIComponent(fileId)}`;

function renderMedia(message) {
  if (message.photo) {
    const size = message.photo[message.photo.length - 1];
    return el("img", {
      class: "media",
      src: fileUrl(size.file_id),
      width: size.width,
      height: size.height,
      alt: message.caption || "photo",
      loading: "lazy",
      onclick: () => window.open(fileUrl(size.file_id), "_blank", "noopener"),
    });
  }
  if (message.video_note) {
    const note = el("video", { class: "video-note", src: fileUrl(message.video_note.file_id), autoplay: true, muted: true, loop: true, playsInline: true, title: "Tap for sound" });
    note.addEventListener("click", () => { note.muted = !note.muted; });
    return note;
  }
  if (message.animation) {
    const a = message.animation;
    return el("video", { class: "media", src: fileUrl(a.file_id), autoplay: true, muted: true, loop: true, playsInline: true, width: a.width || undefined, height: a.height || undefined });
  }
  if (message.video) {
    const v = message.video;
    return el("video", {
      class: "media",
      src: fileUrl(v.file_id),
      controls: true,
      preload: "metadata",
      playsInline: true,
      poster: v.thumbnail ? fileUrl(v.thumbnail.file_id) : undefined,
      width: v.width || undefined,
      height: v.height || undefined,
    });
  }
  if (message.document) {
    const d = message.document;
    return el(
      "a",
      { class: "document", href: fileUrl(d.file_id), download: d.file_name || "file" },
      d.thumbnail ? el("img", { src: fileUrl(d.thumbnail.file_id), alt: "" }) : el("span", { class: "doc-icon" }, "📄"),
      el("span", {}, d.file_name || "file", el("small", {}, `${formatSize(d.file_size)} · ${d.mime_type || "file"}`)),
    );
  }
  return null;
}

function renderQuote(quoted) {
  const summary = quoted.text || quoted.caption || mediaLabel(quoted);
  return el(
    "div",
    { class: "quote", onclick: () => flash(quoted.message_id) },
    el("b", {}, senderName(quoted.from)),
    el("span", {}, summary),
  );
}

function mediaLabel(message) {
  if (message.photo) return "🖼 Photo";
  if (message.video_note) return "⏺ Video message";
  if (message.animation) return "🎞 GIF";
  if (message.video) return "🎬 Video";
  if (message.document) return `📄 ${message.document.file_name || "File"}`;
  return "Message";
}

function renderProgress(text) {
  const match = text && PROGRESS.exec(text);
  if (!match) return null;
  const value = Math.max(0, Math.min(100, parseFloat(match[1].replace(",", "."))));
  return el("div", { class: "progress", role: "progressbar", "aria-valuenow": value, "aria-valuemin": 0, "aria-valuemax": 100 }, el("span", { style: `width:${value}%` }));
}

function renderKeyboard(message) {
  return el(
    "div",
    { class: "keyboard" },
    message.reply_markup.inline_keyboard.map((row) =>
      el("div", { class: "keyboard-row" }, row.map((button) => renderButton(message, button))),
    ),
  );
}

function renderButton(message, button) {
  let kind = null;
  if (button.url) kind = "↗";
  else if (button.switch_inline_query !== undefined || button.switch_inline_query_current_chat !== undefined) kind = "@";
  const node = el("button", { type: "button", title: button.text }, button.text, kind ? el("span", { class: "kind" }, kind) : null);
  node.addEventListener("click", () => pressButton(message, button, node));
  return node;
}

async function pressButton(message, button, node) {
  if (button.url) {
    window.open(button.url, "_blank", "noopener");
  } else if (button.switch_inline_query !== undefined || button.switch_inline_query_current_chat !== undefined) {
    const query = button.switch_inline_query ?? button.switch_inline_query_current_chat;
    setComposerText(`@${app.bot.username} ${query}`);
  } else if (button.copy_text) {
    await navigator.clipboard?.writeText(button.copy_text.text);
    toast("Copied");
  } else if (button.callback_data !== undefined) {
    node.classList.add("waiting");
    try {
      const result = await api("/ui/press", {
        json: { user_id: app.me, chat_id: app.chatId, message_id: message.message_id, data: button.callback_data },
      });
      app.pressed.set(result.callback_query_id, node);
      setTimeout(() => node.classList.remove("waiting"), 15000);
    } catch (error) {
      node.classList.remove("waiting");
      toast(error.message, true);
    }
  } else {
    toast("This button does nothing in the playground");
  }
}

// Telegram's entities use UTF-16 offsets, which are exactly JavaScript string indices.
function formatText(text, entities) {
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const build = (start, end, list) => {
    let out = "";
    let position = start;
    for (let i = 0; i < list.length; ) {
      const entity = list[i];
      if (entity.offset < position) { i += 1; continue; }
      const stop = Math.min(entity.offset + entity.length, end);
      const inner = [];
      let j = i + 1;
      for (; j < list.length && list[j].offset < stop; j += 1) {
        if (list[j].offset + list[j].length <= stop) inner.push(list[j]);
      }
      out += escapeHtml(text.slice(position, entity.offset));
      out += wrapEntity(entity, build(entity.offset, stop, inner), text.slice(entity.offset, stop));
      position = stop;
      i = j;
    }
    return out + escapeHtml(text.slice(position, end));
  };
  return build(0, text.length, sorted);
}

function wrapEntity(entity, inner, raw) {
  switch (entity.type) {
    case "bold": return `<b>${inner}</b>`;
    case "italic": return `<i>${inner}</i>`;
    case "underline": return `<u>${inner}</u>`;
    case "strikethrough": return `<s>${inner}</s>`;
    case "spoiler": return `<span class="spoiler">${inner}</span>`;
    case "code": return `<code>${inner}</code>`;
    case "pre": return `<pre><code>${inner}</code></pre>`;
    case "blockquote":
    case "expandable_blockquote": return `<blockquote>${inner}</blockquote>`;
    case "text_link": return link(entity.url, inner);
    case "url": return link(/^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`, inner);
    case "bot_command": return `<span class="command" data-command="${escapeHtml(raw)}">${inner}</span>`;
    default: return inner;
  }
}

function link(url, inner) {
  if (!/^(https?|tg|mailto):/i.test(url || "")) return inner;
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${inner}</a>`;
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function bindTextActions(bubble) {
  bubble.querySelectorAll(".spoiler").forEach((s) => s.addEventListener("click", () => s.classList.add("shown")));
  bubble.querySelectorAll(".command").forEach((c) => c.addEventListener("click", () => sendText(c.dataset.command)));
}

function formatSize(bytes) {
  if (!bytes && bytes !== 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function nearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

function scrollToBottom(instant = false) {
  const box = $("messages");
  requestAnimationFrame(() => box.scrollTo({ top: box.scrollHeight, behavior: instant ? "auto" : "smooth" }));
}

function flash(id) {
  const node = $("messages").querySelector(`[data-id="${id}"]`);
  if (!node) return;
  node.scrollIntoView({ block: "center", behavior: "smooth" });
  node.classList.remove("flash");
  void node.offsetWidth;
  node.classList.add("flash");
}

// --- events ------------------------------------------------------------------------------

async function poll() {
  for (;;) {
    try {
      const result = await api(`/ui/events?after=${app.cursor}&timeout=25`);
      setConnected(true);
      if (result.reset) {
        window.location.reload();
        return;
      }
      app.cursor = result.cursor;
      for (const event of result.events) handleEvent(event);
    } catch (error) {
      setConnected(false);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function setConnected(ok) {
  $("connection").className = `dot ${ok ? "ok" : "down"}`;
  $("connectionText").textContent = ok ? "emulator connected" : "emulator unreachable, retrying…";
}

function handleEvent(event) {
  const here = event.chat_id === app.chatId;
  switch (event.type) {
    case "message":
      if (here) {
        upsertMessage(event.message, event.hidden_from_bot);
        if (isBot(event.message.from)) clearAction();
      } else if (chat(event.chat_id)?.member_ids.includes(app.me)) {
        app.unread.set(event.chat_id, (app.unread.get(event.chat_id) || 0) + 1);
        renderSidebar();
      }
      break;
    case "edit":
      if (here && app.messages.has(event.message.message_id)) {
        upsertMessage(event.message, app.messages.get(event.message.message_id).hidden);
      }
      break;
    case "delete":
      if (here) removeMessage(event.message_id);
      break;
    case "chat_action":
      if (here) showAction(event.action);
      break;
    case "callback_answer":
      answerArrived(event);
      break;
    case "inline_answer":
      if (event.inline_query_id === app.inline.queryId) renderInlineResults(event);
      break;
    case "commands":
      loadCommands();
      break;
    default:
      break;
  }
}

function showAction(action) {
  renderHeader(`${app.bot.first_name} ${ACTIONS[action] || "is busy…"}`);
  clearTimeout(app.actionTimer);
  app.actionTimer = setTimeout(() => renderHeader(), 5000); // Telegram shows an action for 5 s
}

function clearAction() {
  clearTimeout(app.actionTimer);
  renderHeader();
}

function answerArrived(answer) {
  const node = app.pressed.get(answer.callback_query_id);
  if (node) {
    node.classList.remove("waiting");
    app.pressed.delete(answer.callback_query_id);
  }
  if (answer.user_id !== app.me || !answer.text) return;
  if (answer.show_alert) {
    $("alertText").replaceChildren(el("span", { class: "alert-from" }, app.bot.first_name), answer.text);
    $("alertDialog").showModal();
  } else {
    toast(answer.text);
  }
}

function toast(text, error = false) {
  const node = el("div", { class: `toast${error ? " error" : ""}`, role: "status" }, text);
  $("toasts").append(node);
  setTimeout(() => node.remove(), error ? 5000 : 3000);
}

// --- composer ----------------------------------------------------------------------------

function setComposerText(value) {
  const box = $("text");
  box.value = value;
  box.focus();
  autosize();
  onTextInput();
}

function autosize() {
  const box = $("text");
  box.style.height = "auto";
  box.style.height = `${Math.min(box.scrollHeight, 160)}px`;
}

function inlinePrefix() {
  return `@${app.bot.username}`.toLowerCase();
}

function onTextInput() {
  autosize();
  const value = $("text").value;
  const lower = value.toLowerCase();
  if (lower === inlinePrefix() || lower.startsWith(`${inlinePrefix()} `)) {
    const query = value.slice(inlinePrefix().length).trim();
    if (query === app.inline.text && !$("inlineResults").hidden) return;
    app.inline.text = query;
    clearTimeout(app.inline.timer);
    app.inline.timer = setTimeout(() => askInline(query), 350);
  } else if (app.inline.queryId) {
    app.inline.queryId = null;
    $("inlineResults").hidden = true;
  }
}

async function askInline(query) {
  hidePanels();
  const panel = $("inlineResults");
  panel.hidden = false;
  panel.replaceChildren(el("div", { class: "muted" }, `Asking @${app.bot.username}…`));
  try {
    const result = await api("/ui/inline", { json: { user_id: app.me, chat_id: app.chatId, query } });
    app.inline.queryId = result.inline_query_id;
  } catch (error) {
    panel.replaceChildren(el("div", { class: "muted" }, error.message));
  }
}

function renderInlineResults(answer) {
  const panel = $("inlineResults");
  panel.hidden = false;
  const media = answer.results.filter((r) => r.type !== "article");
  const articles = answer.results.filter((r) => r.type === "article");
  const choose = (result) => chooseInline(answer.inline_query_id, result.id);
  fill(
    panel,
    el("h3", {}, `@${app.bot.username}${answer.query ? ` · “${answer.query}”` : ""}`),
    answer.results.length === 0 ? el("div", { class: "muted" }, "No results.") : null,
    media.length ? el("div", { class: "grid" }, media.map((r) => inlineTile(r, () => choose(r)))) : null,
    articles.map((r) =>
      el("button", { class: "list-item", type: "button", onclick: () => choose(r) }, r.title, r.description ? el("small", {}, r.description) : null),
    ),
  );
}

function inlineTile(result, onclick) {
  const id = result.photo_file_id || result.video_file_id || result.mpeg4_file_id || result.gif_file_id || result.document_file_id;
  const url = id ? fileUrl(id) : result.thumbnail_url || result.photo_url;
  let preview = el("span", {}, result.type);
  if (result.type === "photo" && url) preview = el("img", { src: url, alt: result.title || "", loading: "lazy" });
  else if (url) preview = el("video", { src: url, muted: true, autoplay: true, loop: true, playsInline: true });
  const label = result.title || result.caption || "";
  return el("button", { class: "tile", type: "button", title: label, onclick }, preview, label ? el("span", { class: "label" }, label) : null);
}

async function chooseInline(queryId, resultId) {
  try {
    await api("/ui/choose", { json: { user_id: app.me, chat_id: app.chatId, inline_query_id: queryId, result_id: resultId } });
    $("text").value = "";
    autosize();
    app.inline.queryId = null;
    $("inlineResults").hidden = true;
  } catch (error) {
    toast(error.message, true);
  }
}

function hidePanels() {
  for (const id of ["inlineResults", "commandMenu", "samplesPanel"]) $(id).hidden = true;
}

function togglePanel(id, fill) {
  const panel = $(id);
  const show = panel.hidden;
  hidePanels();
  if (show) {
    fill(panel);
    panel.hidden = false;
  }
}

async function loadCommands() {
  if (!app.me || !app.chatId) return;
  try {
    const result = await api(`/ui/commands?user_id=${app.me}&chat_id=${app.chatId}`);
    app.commands = result.commands;
  } catch {
    app.commands = [];
  }
  $("commandsButton").hidden = app.commands.length === 0;
}

function fillCommands(panel) {
  const suffix = chat(app.chatId).type === "private" ? "" : `@${app.bot.username}`;
  fill(
    panel,
    el("h3", {}, "Commands"),
    app.commands.map((c) =>
      el(
        "button",
        { class: "list-item", type: "button", onclick: () => { hidePanels(); sendText(`/${c.command}${suffix}`); } },
        `/${c.command}`,
        el("small", {}, c.description),
      ),
    ),
  );
}

function fillSamples(panel) {
  panel.replaceChildren(el("h3", {}, "Samples"));
  if (app.samples.length === 0) {
    panel.append(el("div", { class: "muted" }, "No samples folder configured. Attach a file from disk with 📎."));
    return;
  }
  panel.append(
    el(
      "div",
      { class: "grid" },
      app.samples.map((sample) => {
        const url = `/ui/samples/${encodeURIComponent(sample.name)}`;
        const still = sample.kind === "photo" || sample.name.toLowerCase().endsWith(".gif");
        const preview = still
          ? el("img", { src: url, alt: "", loading: "lazy" })
          : el("video", { src: url, muted: true, preload: "metadata", playsInline: true });
        return el(
          "button",
          { class: "tile", type: "button", title: sample.name, onclick: () => { hidePanels(); attach({ sample: sample.name, name: sample.name, kind: sample.kind, size: sample.size, previewUrl: url }); } },
          preview,
          el("span", { class: "label" }, sample.name),
        );
      }),
    ),
  );
}

function guessKind(name, type) {
  const lower = name.toLowerCase();
  if (lower.endsWith(".gif") || type === "image/gif") return "animation";
  if ((type || "").startsWith("image/")) return "photo";
  if ((type || "").startsWith("video/")) return "video";
  return "document";
}

function attach(attachment) {
  if (app.attachment?.objectUrl) URL.revokeObjectURL(app.attachment.objectUrl);
  app.attachment = attachment;
  $("attachmentName").textContent = `${attachment.name} · ${formatSize(attachment.size)}`;
  $("attachmentKind").value = attachment.kind;
  const url = attachment.previewUrl;
  const isImage = attachment.kind === "photo" || attachment.name.toLowerCase().endsWith(".gif");
  $("attachmentPreview").replaceChildren(
    isImage ? el("img", { src: url, alt: "" }) : attachment.kind === "document" ? el("span", { class: "doc-icon" }, "📄") : el("video", { src: url, muted: true, preload: "metadata" }),
  );
  $("uploadProgress").hidden = true;
  $("attachmentBar").hidden = false;
  $("text").placeholder = "Add a caption…";
  $("text").focus();
}

function clearAttachment() {
  if (app.attachment?.objectUrl) URL.revokeObjectURL(app.attachment.objectUrl);
  app.attachment = null;
  $("attachmentBar").hidden = true;
  $("fileInput").value = "";
  renderHeader();
}

function startReply(message) {
  app.replyTo = message;
  $("replyName").textContent = senderName(message.from);
  $("replyText").textContent = message.text || message.caption || mediaLabel(message);
  $("replyBar").hidden = false;
  $("text").focus();
}

function cancelReply() {
  app.replyTo = null;
  $("replyBar").hidden = true;
}

async function sendText(text) {
  const form = new FormData();
  form.append("user_id", app.me);
  form.append("chat_id", app.chatId);
  form.append("text", text);
  if (app.replyTo) form.append("reply_to", app.replyTo.message_id);
  try {
    const result = await api("/ui/send", { method: "POST", body: form });
    upsertMessage(result.message, false);
    cancelReply();
  } catch (error) {
    toast(error.message, true);
  }
}

async function submit(event) {
  event.preventDefault();
  const box = $("text");
  const text = box.value;
  if (app.inline.queryId || text.toLowerCase().startsWith(`${inlinePrefix()} `)) {
    toast("Pick one of the inline results above, or clear the @mention to send text.");
    return;
  }
  if (!app.attachment) {
    if (!text.trim()) return;
    box.value = "";
    autosize();
    await sendText(text);
    return;
  }
  const attachment = app.attachment;
  const form = new FormData();
  form.append("user_id", app.me);
  form.append("chat_id", app.chatId);
  form.append("text", text);
  form.append("kind", $("attachmentKind").value);
  if (app.replyTo) form.append("reply_to", app.replyTo.message_id);
  if (attachment.file) form.append("file", attachment.file, attachment.name);
  else form.append("sample", attachment.sample);
  const progress = $("uploadProgress");
  progress.hidden = false;
  progress.value = 0;
  $("sendButton").disabled = true;
  try {
    const result = await upload(form, (share) => { progress.value = share; });
    upsertMessage(result.message, false);
    box.value = "";
    autosize();
    cancelReply();
    clearAttachment();
  } catch (error) {
    toast(error.message, true);
    progress.hidden = true;
  } finally {
    $("sendButton").disabled = false;
  }
}

// --- drawer (phones) ---------------------------------------------------------------------

function openDrawer() {
  $("app").classList.add("drawer-open");
  $("scrim").hidden = false;
}

function closeDrawer() {
  $("app").classList.remove("drawer-open");
  $("scrim").hidden = true;
}

// --- start -------------------------------------------------------------------------------

function bindControls() {
  $("composer").addEventListener("submit", submit);
  $("text").addEventListener("input", onTextInput);
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("composer").requestSubmit();
    } else if (e.key === "Escape") {
      hidePanels();
      cancelReply();
    }
  });
  $("attachButton").addEventListener("click", () => $("fileInput").click());
  $("fileInput").addEventListener("change", () => {
    const file = $("fileInput").files[0];
    if (!file) return;
    const objectUrl = URL.createObjectURL(file);
    attach({ file, name: file.name, size: file.size, kind: guessKind(file.name, file.type), previewUrl: objectUrl, objectUrl });
  });
  $("samplesButton").addEventListener("click", () => togglePanel("samplesPanel", fillSamples));
  $("commandsButton").addEventListener("click", () => togglePanel("commandMenu", fillCommands));
  $("replyCancel").addEventListener("click", cancelReply);
  $("attachmentCancel").addEventListener("click", clearAttachment);
  $("menuButton").addEventListener("click", openDrawer);
  $("scrim").addEventListener("click", closeDrawer);
}

async function start() {
  bindControls();
  const overview = await api("/ui/state");
  Object.assign(app, {
    bot: overview.bot,
    people: overview.people,
    chats: overview.chats,
    samples: overview.samples,
    privacyMode: overview.privacy_mode,
    cursor: overview.cursor,
  });
  setConnected(true);
  const savedMe = Number(localStorage.getItem("artisto.me"));
  app.me = person(savedMe) ? savedMe : app.people[0].id;
  const savedChat = Number(localStorage.getItem("artisto.chat"));
  const mine = myChats();
  await openChat(mine.some((c) => c.id === savedChat) ? savedChat : mine[0].id);
  poll();
}

start().catch((error) => toast(`The playground did not start: ${error.message}`, true));
