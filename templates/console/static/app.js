// The console's only script (CSP: script-src 'self', no inline code). Pages are rendered on the
// server; this file adds what needs a browser: actions through the same JSON API as xunjianctl
// (/api/v1/..., with the session cookie and the X-CSRF-Token header), countdowns of incident
// deadlines, and the overview's refresh every 15 seconds.
'use strict';

(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  const S = (key) => {
    const el = document.getElementById('js-strings');
    return (el && el.dataset[key]) || key;
  };

  // One call to the JSON API; resolves to {ok, status, body} and never throws on HTTP errors.
  async function api(method, url, body) {
    const headers = { 'Accept': 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = csrf();
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(url, {
        method, headers, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      return { ok: false, status: 0, body: { error: S('networkError') } };
    }
    let parsed = {};
    const text = await res.text();
    try { parsed = text ? JSON.parse(text) : {}; } catch (e) { parsed = { error: text }; }
    return { ok: res.ok, status: res.status, body: parsed };
  }

  function showError(form, message) {
    const p = form.querySelector('.form-error') || document.getElementById('users-error');
    if (!p) { window.alert(message); return; }
    p.textContent = message;
    p.hidden = !message;
  }

  // A form's named fields as JSON: checkboxes are booleans, data-list="lines" textareas lists,
  // empty optional fields are left out.
  function formBody(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled) continue;
      if (el.type === 'checkbox') { body[el.name] = el.checked; continue; }
      if (el.closest('[hidden]')) continue;
      const v = el.value.trim();
      if (el.dataset.list === 'lines') {
        body[el.name] = v.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);
      } else if (v !== '') {
        body[el.name] = v;
      }
    }
    return body;
  }

  function after(then) {
    if (!then || then === 'reload') { window.location.reload(); return; }
    if (then.startsWith('goto:')) window.location.assign(then.slice(5));
  }

  function bindForms() {
    for (const form of document.querySelectorAll('form.js-api')) {
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const button = form.querySelector('button[type="submit"]');
        if (button) button.disabled = true;
        showError(form, '');
        const r = await api(form.dataset.method || 'POST', form.dataset.url, formBody(form));
        if (button) button.disabled = false;
        if (!r.ok) { showError(form, r.body.error || ('HTTP ' + r.status)); return; }
        after(form.dataset.then);
      });
    }
    for (const button of document.querySelectorAll('button.js-post')) {
      button.addEventListener('click', async () => {
        if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
        button.disabled = true;
        const r = await api('POST', button.dataset.url, {});
        button.disabled = false;
        if (!r.ok) { window.alert(r.body.error || ('HTTP ' + r.status)); return; }
        after(button.dataset.then);
      });
    }
  }

  function bindLogin() {
    const form = document.getElementById('login-form');
    if (!form) return;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      showError(form, '');
      const r = await api('POST', '/api/v1/session', formBody(form));
      if (!r.ok) { showError(form, r.body.error || ('HTTP ' + r.status)); return; }
      const next = new URLSearchParams(window.location.search).get('next') || '/console/';
      // Only our own pages: never a redirect to another site.
      window.location.assign(next.startsWith('/console') ? next : '/console/');
    });
  }

  function bindLogout() {
    const b = document.getElementById('logout');
    if (!b) return;
    b.addEventListener('click', async () => {
      await api('DELETE', '/api/v1/session');
      window.location.assign('/console/login');
    });
  }

  // "2026-12-02 11:34" in the collector's zone (data-tz-offset), like the server-rendered times.
  const tzOffsetMs = Number(document.body.dataset.tzOffset || 0) * 60000;
  const when = (ms) => new Date(Number(ms) + tzOffsetMs).toISOString().slice(0, 16).replace('T', ' ');

  // "剩余 1 小时 12 分" / "已超时 5 分": from the server's clock (data-now) so a wrong phone
  // clock does not move deadlines.
  const skew = Number(document.body.dataset.now || Date.now()) - Date.now();
  function span(ms) {
    const m = Math.floor(Math.abs(ms) / 60000);
    const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), min = m % 60;
    // The unit words carry their own leading space (" 小时", " h").
    return ((d ? d + S('unitD') + ' ' : '') + (d || h ? h + S('unitH') + ' ' : '') + min + S('unitMin')).trim();
  }
  function tick() {
    const now = Date.now() + skew;
    for (const el of document.querySelectorAll('.countdown[data-deadline]')) {
      const left = Number(el.dataset.deadline) - now;
      el.textContent = left >= 0 ? S('left') + ' ' + span(left) : S('overdue') + ' ' + span(left);
      el.classList.toggle('overdue', left < 0);
      el.classList.toggle('soon', left >= 0 && left < 15 * 60000);
    }
  }

  // Pages with data-refresh="N" fetch themselves every N seconds and swap the refreshed part,
  // so an open tab stays current without reloading (forms keep what is being typed).
  function bindRefresh() {
    const region = document.querySelector('[data-refresh]');
    if (!region) return;
    const every = Math.max(5, Number(region.dataset.refresh)) * 1000;
    setInterval(async () => {
      if (document.hidden) return;
      let res;
      try { res = await fetch(window.location.href, { credentials: 'same-origin' }); } catch (e) { return; }
      // A session that ended meanwhile: the reload lands on the login page.
      if (res.redirected) { window.location.reload(); return; }
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.querySelector('[data-refresh]');
      if (!fresh) return;
      region.replaceWith(fresh);
      const now = doc.body.dataset.now;
      if (now) document.body.dataset.now = now;
      tick();
    }, every);
  }

  function bindReportKind() {
    const kind = document.getElementById('report-kind');
    if (!kind) return;
    const show = () => {
      for (const el of document.querySelectorAll('[data-for-kind]')) el.hidden = el.dataset.forKind !== kind.value;
    };
    kind.addEventListener('change', show);
    show();
  }

  function bindAuditVerify() {
    const b = document.getElementById('verify-audit');
    if (!b) return;
    b.addEventListener('click', async () => {
      const out = document.getElementById('verify-result');
      const r = await api('GET', '/api/v1/audit/verify');
      if (!r.ok) { out.textContent = r.body.error || ('HTTP ' + r.status); out.className = 'bad'; return; }
      out.textContent = r.body.ok ? S('chainOk') + ' ' + r.body.entries
                                  : S('chainBad') + ' ' + r.body.first_bad_id + ' (' + r.body.reason + ')';
      out.className = r.body.ok ? 'ok-note' : 'bad';
    });
  }

  // The users page lists the users API's answer; each row's buttons call it again.
  async function loadUsers() {
    const table = document.getElementById('users-table');
    if (!table) return;
    const err = document.getElementById('users-error');
    const r = await api('GET', table.dataset.url);
    const tbody = table.querySelector('tbody');
    if (!r.ok) { err.textContent = r.body.error || ('HTTP ' + r.status); err.hidden = false; return; }
    tbody.textContent = '';
    const cell = (tr, text, label) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (label) td.dataset.label = label;
      tr.appendChild(td);
      return td;
    };
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
    for (const u of r.body.users || []) {
      const tr = document.createElement('tr');
      const name = u.name || u.user;
      cell(tr, name, heads[0]);
      const roleTd = cell(tr, '', heads[1]);
      const select = document.createElement('select');
      for (const role of ['viewer', 'operator', 'admin']) {
        const o = document.createElement('option');
        o.value = role;
        o.textContent = S('role' + role[0].toUpperCase() + role.slice(1));
        o.selected = u.role === role;
        select.appendChild(o);
      }
      roleTd.appendChild(select);
      const locked = Number(u.locked_until || 0) > 0;
      cell(tr, u.disabled ? S('disabled') : locked ? S('locked') + ' → ' + when(u.locked_until)
                                                   : S('active'), heads[2]);
      cell(tr, u.created ? when(u.created) : '', heads[3]);
      const actions = cell(tr, '');
      const act = (label, verb, body) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = label;
        b.addEventListener('click', async () => {
          const payload = typeof body === 'function' ? body() : body;
          if (payload === null) return;
          const res = await api('POST', '/api/v1/users/' + encodeURIComponent(name) + '/' + verb, payload);
          if (!res.ok) { err.textContent = res.body.error || ('HTTP ' + res.status); err.hidden = false; return; }
          err.hidden = true;
          loadUsers();
        });
        actions.appendChild(b);
      };
      act(S('setRole'), 'role', () => ({ role: select.value }));
      act(S('resetPassword'), 'password', () => {
        const p = window.prompt(S('newPassword'));
        return p ? { password: p } : null;
      });
      if (locked || Number(u.failures || 0) > 0) act(S('unlock'), 'unlock', {});
      act(u.disabled ? S('enable') : S('disable'), u.disabled ? 'enable' : 'disable', {});
      tbody.appendChild(tr);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    bindForms();
    bindLogin();
    bindLogout();
    bindRefresh();
    bindReportKind();
    bindAuditVerify();
    loadUsers();
    tick();
    setInterval(tick, 1000);
  });
})();
