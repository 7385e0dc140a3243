// The key manager of the keycap example: plain JavaScript over the JSON API
// at /api-keys (same origin, session cookie). No build step, no libraries.
(function () {
  'use strict';

  var main = document.getElementById('main');
  if (!main || !main.dataset.user) {
    return; // the login page needs no script
  }
  var role = main.dataset.role;
  var $ = function (id) { return document.getElementById(id); };
  var form = $('create-form');
  var createError = $('create-error');
  var pageError = $('page-error');
  var dialog = $('revoke-dialog');
  var newKeyPanel = $('new-key');
  var returnFocusTo = null; // where focus goes when a panel or dialog closes
  var revoking = null;      // the key the dialog asks about

  // api sends a JSON request and resolves to {ok, status, data} or
  // {ok: false, status, error: {code, message, details}}; it never rejects.
  function api(method, path, body) {
    var init = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (data) {
        if (resp.ok) { return { ok: true, status: resp.status, data: data }; }
        var error = data && data.code ? data : { code: 'HTTP_' + resp.status, message: '', details: {} };
        return { ok: false, status: resp.status, error: error };
      });
    }, function () {
      return { ok: false, status: 0, error: { code: 'NETWORK', message: '', details: {} } };
    });
  }

  // --- words -------------------------------------------------------------

  function andList(words) {
    if (words.length < 2) { return words.join(''); }
    return words.slice(0, -1).join(', ') + ' and ' + words[words.length - 1];
  }

  // byRank orders actions as people say them: read, write, delete, then
  // any other alphabetically.
  var rank = { read: 0, write: 1, delete: 2 };
  function byRank(a, b) {
    var ra = a in rank ? rank[a] : 3;
    var rb = b in rank ? rank[b] : 3;
    return ra - rb || (a < b ? -1 : a > b ? 1 : 0);
  }

  // phrases says what permissions allow: ["read and write files", ...].
  function phrases(perms) {
    return Object.keys(perms || {}).sort().map(function (r) {
      return andList(perms[r].slice().sort(byRank)) + ' ' + r;
    });
  }

  function describe(perms) {
    var p = phrases(perms);
    return p.length ? p.join('; ') : 'nothing';
  }

  function sentence(s) {
    s = String(s || '').trim();
    if (!s) { return ''; }
    s = s.charAt(0).toUpperCase() + s.slice(1);
    return /[.!?]$/.test(s) ? s : s + '.';
  }

  function duration(seconds) {
    var days = seconds / 86400;
    if (days >= 1 && days === Math.floor(days)) { return days + (days === 1 ? ' day' : ' days'); }
    var hours = Math.round(seconds / 3600);
    return hours + (hours === 1 ? ' hour' : ' hours');
  }

  // humanize turns a keycap error into sentences a person understands.
  function humanize(e) {
    var d = e.details || {};
    switch (e.code) {
      case 'PERMISSIONS_EXCEED_MAXIMUM':
        return 'You can’t give a key permission to ' + andList(phrases(d.exceeded)) +
          ', because your account (' + role + ') doesn’t have that permission. ' +
          'You may grant at most: ' + describe(d.maximum) + '.';
      case 'INVALID_PERMISSIONS':
        return 'Those permissions are not valid' + (d.path ? ' (at ' + d.path + ')' : '') + ': ' + sentence(d.reason || e.message);
      case 'LIFETIME_EXCEEDS_MAXIMUM':
        return 'A key with these permissions may live at most ' + duration(d.maximum_seconds) + '. Pick a shorter expiry.';
      case 'INVALID_FIELD':
        return 'Please check the ' + (d.field || 'form') + ': ' + sentence(d.reason || e.message);
      case 'INVALID_BODY':
        return 'The request was not accepted: ' + sentence(d.reason || e.message);
      case 'UNAUTHENTICATED':
        return 'You are no longer logged in. Reload the page and log in again.';
      case 'CSRF':
        return 'The request was refused because it did not come from this page. Reload the page and try again.';
      case 'KEY_NOT_FOUND':
        return 'That key no longer exists.';
      case 'KEY_REVOKED':
        return 'That key is already revoked.';
      case 'SUBJECT_DISABLED':
        return 'Your account may not manage API keys. Ask an administrator.';
      case 'RATE_LIMITED':
        return 'Too many requests. Wait ' + (d.retry_after_seconds || 'a few') + ' seconds and try again.';
      case 'STORE_UNAVAILABLE':
        return 'Keys cannot be reached right now. Try again in a moment.';
      case 'NETWORK':
        return 'The server could not be reached. Check your connection and try again.';
    }
    return sentence(e.message) || 'Something went wrong (' + e.code + '). Try again.';
  }

  // --- messages ----------------------------------------------------------

  function announce(text) {
    var status = $('status');
    status.textContent = '';
    window.setTimeout(function () { status.textContent = text; }, 50); // re-announce the same text
  }

  function showError(el, text) {
    el.textContent = text;
    el.hidden = false;
  }

  function hideError(el) {
    el.hidden = true;
    el.textContent = '';
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.append(c); } });
    return node;
  }

  // --- the permission picker ---------------------------------------------

  function renderPicker(g) {
    var body = $('picker-body');
    body.replaceChildren();
    if (!g.allow_client_permissions) {
      body.append(el('p', { class: 'muted', text: 'This app chooses the permissions of new keys for you.' }));
      return;
    }
    Object.keys(g.known).sort().forEach(function (resource) {
      var group = el('fieldset', { class: 'resource' }, [el('legend', { text: resource })]);
      g.known[resource].slice().sort(byRank).forEach(function (action) {
        var id = 'perm-' + resource + '-' + action;
        var allowed = (g.permissions[resource] || []).indexOf(action) >= 0;
        var input = el('input', { type: 'checkbox', id: id, name: 'permission', value: resource + ':' + action });
        var label = el('label', { for: id, class: 'choice' + (allowed ? '' : ' disabled') }, [input, document.createTextNode(' ' + action)]);
        var item = el('div', { class: 'choice-row' }, [label]);
        if (!allowed) {
          input.disabled = true;
          input.setAttribute('aria-describedby', id + '-reason');
          item.append(el('span', { id: id + '-reason', class: 'reason', text: 'your role (' + role + ') can’t grant this' }));
        }
        group.append(item);
      });
      body.append(group);
    });
    var max = g.max_lifetime_seconds;
    Array.prototype.forEach.call($('key-expiry').options, function (o) {
      o.disabled = max > 0 && (o.value === '' || Number(o.value) > max);
    });
  }

  function loadGrantable() {
    return api('GET', '/api-keys/grantable').then(function (res) {
      if (!res.ok) { showError(pageError, humanize(res.error)); return; }
      renderPicker(res.data);
    });
  }

  // --- the key list ------------------------------------------------------

  // when shows a time as a date ("Nov 27, 2026"), or, with ago, as
  // "5 minutes ago" within a day; the full time is in the title.
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;
  function when(iso, none, ago) {
    if (!iso) { return document.createTextNode(none); }
    var d = new Date(iso);
    var text = d.toLocaleDateString(undefined, { dateStyle: 'medium' });
    var seconds = Math.round((d.getTime() - Date.now()) / 1000);
    if (ago && relative && Math.abs(seconds) < 86400) {
      text = Math.abs(seconds) < 60 ? relative.format(seconds, 'second')
        : Math.abs(seconds) < 3600 ? relative.format(Math.round(seconds / 60), 'minute')
          : relative.format(Math.round(seconds / 3600), 'hour');
    }
    return el('time', { datetime: iso, title: d.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' }), text: text });
  }

  function cell(label, children, cls) {
    return el('td', { 'data-label': label, class: cls || '' }, children);
  }

  function keyRow(k) {
    var actions = null;
    if (k.status !== 'revoked') {
      actions = el('button', { type: 'button', class: 'button danger small', 'data-revoke': k.id }, [
        document.createTextNode('Revoke'), el('span', { class: 'visually-hidden', text: ' ' + k.name })]);
      actions.addEventListener('click', function () { askRevoke(k, actions); });
    }
    return el('tr', { 'data-key-id': k.id, class: 'status-' + k.status }, [
      el('th', { scope: 'row', 'data-label': 'Name', text: k.name }),
      cell('Key', [el('code', { class: 'hint', text: k.hint })]),
      cell('Permissions', [el('span', { text: describe(k.permissions) })]),
      cell('Created', [when(k.created_at, '')]),
      cell('Last used', [when(k.last_used_at, 'never', true)]),
      cell('Expires', [when(k.expires_at, 'never')]),
      cell('Status', [el('span', { class: 'badge ' + k.status, text: k.status }),
        k.revoked_at ? el('span', { class: 'when small muted' }, [document.createTextNode('on '), when(k.revoked_at, '')]) : null]),
      cell('Actions', [actions], 'actions')
    ]);
  }

  function loadKeys() {
    return api('GET', '/api-keys').then(function (res) {
      var body = $('keys-body');
      if (!res.ok) { showError(pageError, humanize(res.error)); return; }
      body.replaceChildren();
      var list = res.data.keys || [];
      if (list.length === 0) {
        body.append(el('p', { class: 'muted', id: 'no-keys', text: 'You have no keys yet. Create one above.' }));
        return;
      }
      var head = el('tr', {}, ['Name', 'Key', 'Permissions', 'Created', 'Last used', 'Expires', 'Status', 'Actions'].map(function (h) {
        return el('th', { scope: 'col', text: h });
      }));
      var table = el('table', { class: 'keys', id: 'keys-table' }, [
        el('caption', { class: 'visually-hidden', text: 'Your API keys, newest first' }),
        el('thead', {}, [head]), el('tbody', {}, list.map(keyRow))]);
      body.append(el('div', { class: 'table-wrap' }, [table]));
    });
  }

  // --- creating a key ----------------------------------------------------

  // createKey sends body to POST /api-keys and shows the new key, or the
  // refusal as sentences. It is window.keycap.createKey, so any request,
  // even one the form would not make, goes through the same rendering.
  function createKey(body) {
    hideError(createError);
    var submit = $('create-submit');
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    return api('POST', '/api-keys', body).then(function (res) {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
      if (!res.ok) {
        showError(createError, humanize(res.error));
        createError.focus();
        return res;
      }
      form.reset();
      showNewKey(res.data);
      return loadKeys().then(function () { return res; });
    });
  }

  function showNewKey(k) {
    returnFocusTo = $('create-submit');
    $('new-key-name').textContent = k.name;
    $('new-key-value').value = k.key;
    var path = '/api/files';
    ['files', 'projects', 'billing'].some(function (r) {
      if ((k.permissions[r] || []).indexOf('read') >= 0) { path = '/api/' + r; return true; }
      return false;
    });
    $('curl-line').textContent = 'curl -H "Authorization: Bearer ' + k.key + '" ' + window.location.origin + path;
    newKeyPanel.hidden = false;
    $('new-key-title').focus();
    announce('Key “' + k.name + '” created. Copy it now: it is shown only once.');
  }

  function closeNewKey() {
    $('new-key-value').value = '';
    $('curl-line').textContent = '';
    newKeyPanel.hidden = true;
    (returnFocusTo || $('key-name')).focus();
  }

  function copyKey() {
    var input = $('new-key-value');
    var button = $('copy-key');
    var done = function (ok) {
      if (!ok) {
        input.focus();
        input.select();
        announce('Copying did not work here: the key is selected, press Ctrl+C (⌘C on a Mac).');
        return;
      }
      button.textContent = 'Copied ✓';
      announce('Key copied to the clipboard.');
      window.setTimeout(function () { button.textContent = 'Copy key'; }, 2500);
    };
    var fallback = function () {
      input.select();
      try { done(document.execCommand('copy')); } catch (e) { done(false); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  function onSubmit(event) {
    event.preventDefault();
    hideError(createError);
    var name = $('key-name');
    name.removeAttribute('aria-invalid');
    var perms = {};
    form.querySelectorAll('input[name=permission]:checked').forEach(function (box) {
      var parts = box.value.split(':');
      (perms[parts[0]] = perms[parts[0]] || []).push(parts[1]);
    });
    if (!name.value.trim()) {
      name.setAttribute('aria-invalid', 'true');
      showError(createError, 'Give the key a name, so you can recognise it later.');
      name.focus();
      return;
    }
    if (Object.keys(perms).length === 0) {
      showError(createError, 'Pick at least one permission for the key.');
      createError.focus();
      return;
    }
    var body = { name: name.value.trim(), permissions: perms };
    var expiry = $('key-expiry').value;
    if (expiry) { body.expires_in = Number(expiry); }
    createKey(body);
  }

  // --- revoking a key ----------------------------------------------------

  function askRevoke(k, button) {
    revoking = k;
    returnFocusTo = button;
    $('revoke-name').textContent = k.name;
    dialog.showModal(); // focus moves to Cancel (autofocus)
  }

  function confirmRevoke() {
    var k = revoking;
    var confirmButton = $('revoke-confirm');
    confirmButton.disabled = true;
    api('DELETE', '/api-keys/' + encodeURIComponent(k.id)).then(function (res) {
      confirmButton.disabled = false;
      returnFocusTo = $('keys-title');
      dialog.close();
      if (!res.ok) {
        showError(pageError, humanize(res.error));
        return loadKeys();
      }
      hideError(pageError);
      announce('Key “' + k.name + '” revoked. Requests with it are now refused.');
      return loadKeys();
    });
  }

  dialog.addEventListener('close', function () {
    revoking = null;
    if (returnFocusTo && document.contains(returnFocusTo)) {
      returnFocusTo.focus();
    } else {
      $('keys-title').focus();
    }
  });
  $('revoke-cancel').addEventListener('click', function () { dialog.close(); });
  $('revoke-confirm').addEventListener('click', confirmRevoke);
  $('copy-key').addEventListener('click', copyKey);
  $('new-key-done').addEventListener('click', closeNewKey);
  form.addEventListener('submit', onSubmit);
  form.addEventListener('change', function () { hideError(createError); });
  $('keys-title').setAttribute('tabindex', '-1');

  window.keycap = { createKey: createKey, loadKeys: loadKeys, humanize: humanize, describe: describe };
  Promise.all([loadGrantable(), loadKeys()]).then(function () { main.dataset.ready = 'true'; });
})();
