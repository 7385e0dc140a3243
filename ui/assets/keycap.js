// keycap's key-management page (package ui): plain JavaScript over the JSON
// API (same origin, session cookie). No build step, no libraries, no inline
// script: everything it needs is on the element marked data-keycap.
(function () {
  'use strict';

  var main = document.querySelector('[data-keycap]');
  if (!main || !main.dataset.user) {
    return; // no page here (a login page): nothing to do
  }
  var base = main.dataset.api || '/api-keys'; // where the app mounted the keys API
  var ownCapSource = main.dataset.capSource || 'your account'; // "your role (member)": whose limit the cap is
  var capSource = ownCapSource; // the same, or the organization's whose keys are shown
  var owner = '';     // the organization whose keys are shown (?owner=), '' for the user's own
  var ownerName = ''; // what the page calls it
  // Every id and class the page puts in the document starts with "kc-", so
  // that the app's own CSS and ids cannot collide with them: $ and el add
  // the prefix, the script names them without it.
  var $ = function (id) { return document.getElementById(prefixed(id)); };
  var form = $('create-form');
  var createError = $('create-error');
  var pageError = $('page-error');
  var dialog = $('revoke-dialog');
  var rotateDialog = $('rotate-dialog');
  var rotateForm = $('rotate-form');
  var rotateError = $('rotate-error');
  var newKeyPanel = $('new-key');
  var ipsDialog = $('ips-dialog');
  var ipsForm = $('ips-form');
  var ipsError = $('ips-error');
  var activityBody = $('activity-body'); // absent when the app keeps no activity log
  var returnFocusTo = null; // where focus goes when a panel or dialog closes: an element or a CSS selector
  var revoking = null;      // the key the revoke dialog asks about
  var rotating = null;      // the key the rotate dialog asks about
  var rotateBack = null;    // where focus goes when the rotate dialog is cancelled
  var editing = null;       // the key whose IP ranges the IP dialog edits
  var ipsBack = null;       // where focus goes when the IP dialog closes
  var keyNames = {};        // key id → name, from the last list, for the activity
  var hooks = {};           // set by keycap-manage.js: rowButtons(k), rowNotes(k), beforeCreate(body), grantable(g)
  var loaded = [];          // the keys listed so far, newest first
  var nextCursor = '';      // the list's next page, '' when all are loaded

  // url is the address of path below the keys API with query's
  // non-empty values, and ?owner= while an organization's keys are shown:
  // every call carries it.
  function url(path, query) {
    var q = {};
    Object.keys(query || {}).forEach(function (k) { q[k] = query[k]; });
    if (owner) { q.owner = owner; }
    var pairs = Object.keys(q).filter(function (k) { return q[k] !== '' && q[k] !== undefined && q[k] !== null; })
      .map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(q[k]); });
    return base + (path || '') + (pairs.length ? '?' + pairs.join('&') : '');
  }

  // RawJSON is JSON text a person wrote (and the page parsed), sent as
  // written: numbers beyond what JavaScript holds exactly stay as typed.
  function RawJSON(text) { this.text = text; }

  // encode is JSON.stringify of body with each RawJSON put in as its text.
  function encode(body) {
    var raws = [];
    var nonce = String(Math.random()).slice(2);
    var mark = function (i) { return '\u0001kc-raw-' + nonce + '-' + i + '\u0001'; };
    var text = JSON.stringify(body, function (k, v) {
      if (v instanceof RawJSON) { raws.push(v.text); return mark(raws.length - 1); }
      return v;
    });
    raws.forEach(function (raw, i) { text = text.split(JSON.stringify(mark(i))).join(raw); });
    return text;
  }

  // api sends a JSON request and resolves to {ok, status, data} or
  // {ok: false, status, error: {code, message, details}}; it never rejects.
  // pending counts the page's requests in flight, as the container's
  // data-pending ("0" when idle): for a spinner of the app's, and for
  // tests, which wait for it before clicking what a reply may move.
  function pending(delta) {
    main.dataset.pending = String((Number(main.dataset.pending) || 0) + delta);
  }

  function api(method, path, body) {
    var init = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = encode(body);
    }
    pending(1);
    var settled = function (result) { pending(-1); return result; };
    return fetch(path, init).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (data) {
        if (resp.ok) { return { ok: true, status: resp.status, data: data }; }
        var error = data && data.code ? data : { code: 'HTTP_' + resp.status, message: '', details: {} };
        return { ok: false, status: resp.status, error: error };
      });
    }, function () {
      return { ok: false, status: 0, error: { code: 'NETWORK', message: '', details: {} } };
    }).then(settled);
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

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  // duration says a number of seconds as people count time: "90 days",
  // "36 hours", "5 minutes". Days are whole days (a date picked 200 days
  // ahead, at the end of that day, is "200 days").
  function duration(seconds) {
    seconds = Math.max(0, Number(seconds) || 0);
    var days = seconds / 86400;
    if (days >= 2 || days === 1) { return plural(Math.floor(days), 'day'); }
    if (seconds >= 3600) { return plural(Math.round(seconds / 3600), 'hour'); }
    if (seconds >= 60) { return plural(Math.round(seconds / 60), 'minute'); }
    return plural(Math.round(seconds), 'second');
  }

  // goDuration reads a duration as Go writes it ("2160h0m0s", "1h30m",
  // "45s", "500ms") in seconds, or NaN.
  function goDuration(text) {
    var m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
    if (!m || text === '') { return NaN; }
    return Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
  }

  // fieldWords names the API's fields as the page labels them.
  var fieldWords = {
    name: 'name', description: 'description', expires_in: 'expiry', remaining: 'request quota',
    refill_amount: 'quota refill', refill_interval_seconds: 'refill interval', template: 'template',
    grace_seconds: 'grace period', reason: 'reason', allowed_ips: 'IP ranges', resources: 'records',
    metadata: 'metadata', kind: 'kind of key', cursor: 'page', limit: 'page size', owner: 'owner'
  };

  // plainWords rewrites what a server message says in the API's terms:
  // Go durations ("2160h0m0s": "90 days"), counts of seconds ("at least
  // 3600 seconds": "at least 1 hour") and field names ("refill_amount":
  // "quota refill").
  function plainWords(text) {
    return String(text || '')
      .replace(/\b(?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?s\b|\b\d+h(?:\d+m)?\b/g, function (d) {
        var s = goDuration(d);
        return isNaN(s) ? d : duration(s);
      })
      .replace(/\b(\d+) seconds\b/g, function (all, n) { return Number(n) >= 60 ? duration(Number(n)) : all; })
      .replace(/\b[a-z]+(?:_[a-z]+)+\b/g, function (f) { return fieldWords[f] || f.replace(/_/g, ' '); });
  }

  // humanize turns a keycap error into sentences a person understands.
  function humanize(e) {
    var d = e.details || {};
    // A refusal naming a field says it as the page labels it: "set remaining
    // too" is "set request quota too".
    var said = function (text) {
      var f = d.field && fieldWords[d.field];
      text = String(text || '');
      if (f) { text = text.split('"' + d.field + '"').join(f).replace(new RegExp('\\b' + d.field + '\\b', 'g'), f); }
      return plainWords(text);
    };
    switch (e.code) {
      case 'PERMISSIONS_EXCEED_MAXIMUM':
        if (d.records) {
          return 'You can’t limit a key to ' + andList(Object.keys(d.records).sort().map(function (r) {
            return r + ' ' + andList(d.records[r]);
          })) + ': you may not ' + andList(phrases(d.exceeded)) + ' there.';
        }
        return 'You can’t give a key permission to ' + andList(phrases(d.exceeded)) +
          (owner ? ', because that is beyond ' + boundsWords(d.bounds) + '. ' : ', because ' + capSource + ' doesn’t have that permission. ') +
          'You may grant at most: ' + describe(d.maximum) + '.';
      case 'INVALID_PERMISSIONS':
        return 'Those permissions are not valid: ' + sentence(plainWords(d.reason || e.message));
      case 'LIFETIME_EXCEEDS_MAXIMUM':
        return (d.requested_seconds ? 'An expiry in ' + duration(d.requested_seconds) : 'A key that never expires') +
          ' exceeds the maximum of ' + duration(d.maximum_seconds) + ' for a key with these permissions: it may live at most ' +
          duration(d.maximum_seconds) + '. Pick a shorter expiry.';
      case 'INVALID_FIELD':
        if (d.field === 'allowed_ips') {
          return 'Please check the IP ranges: ' + sentence(String(d.reason || e.message).replace(/^range (\d+) /, function (m, i) {
            return 'the ' + ordinal(Number(i) + 1) + ' range ';
          }));
        }
        return 'Please check the ' + (fieldWords[d.field] || plainWords(d.field) || 'form') + ': ' + sentence(said(d.reason || e.message));
      case 'IP_ALLOW_LIST_REQUIRED':
        return 'A key that may ' + andList(phrases(d.permissions)) + ' must be limited to IP ranges. ' +
          'Add the addresses your script runs from, or leave those permissions out.';
      case 'IP_NOT_ALLOWED':
        return 'This key may not be used from ' + (d.client_ip || 'an unknown address') + '.';
      case 'INVALID_BODY':
        return 'The request was not accepted: ' + sentence(said(d.reason || e.message));
      case 'UNAUTHENTICATED':
        return 'You are no longer logged in. Reload the page and log in again.';
      case 'CSRF':
        return 'The request was refused because it did not come from this page. Reload the page and try again.';
      case 'KEY_NOT_FOUND':
        return 'That key no longer exists.';
      case 'KEY_REVOKED':
        return 'That key is already revoked.';
      case 'KEY_EXPIRED':
        return 'That key has expired: create a new one instead.';
      case 'CANNOT_MANAGE_KEYS':
      case 'FORBIDDEN':
        if (owner) { return 'You may no longer manage the keys of ' + ownerName + '. Ask one of its administrators, or choose your own keys.'; }
        break;
      case 'SUBJECT_DISABLED':
        return 'Your account may not manage API keys. Ask an administrator.';
      case 'RATE_LIMITED':
        return 'Too many requests. Wait ' + (d.retry_after_seconds || 'a few') + ' seconds and try again.';
      case 'STORE_UNAVAILABLE':
        return 'Keys cannot be reached right now. Try again in a moment.';
      case 'NETWORK':
        return 'The server could not be reached. Check your connection and try again.';
    }
    return sentence(plainWords(e.message)) || 'Something went wrong (' + e.code + '). Try again.';
  }

  // boundsWords says whose limit a refusal about an organization's key
  // went beyond (the details' bounds), or capSource.
  function boundsWords(bounds) {
    var org = (bounds || []).indexOf('organization') >= 0;
    var user = (bounds || []).indexOf('user') >= 0;
    if (!owner || (!org && !user)) { return capSource; }
    return org && user ? ownerName + '’s limit and your rights in it' : org ? ownerName + '’s limit' : 'your rights in ' + ownerName;
  }

  function ordinal(n) {
    return n + (n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th');
  }

  // ranges reads IP ranges typed by a person: separated by commas, spaces
  // or lines. The server checks each.
  function ranges(text) {
    return String(text || '').split(/[\s,]+/).filter(function (r) { return r !== ''; });
  }

  // --- messages ----------------------------------------------------------

  // announce says text in the status line, read out by screen readers even
  // when it is the same text again: the line is blanked, then written 50 ms
  // later. The blank is a no-break space, so the line keeps its height and
  // nothing below it jumps (a click aimed at a button there would miss).
  function announce(text) {
    var status = $('status');
    status.textContent = '\u00a0';
    pending(1);
    window.setTimeout(function () { status.textContent = text; pending(-1); }, 50);
  }

  function showError(el, text) {
    el.textContent = text;
    el.hidden = false;
  }

  function hideError(el) {
    el.hidden = true;
    el.textContent = '';
  }

  // prefixed adds "kc-" to each space-separated name of names that lacks it.
  function prefixed(names) {
    return String(names).split(' ').filter(Boolean).map(function (n) {
      return n.indexOf('kc-') === 0 ? n : 'kc-' + n;
    }).join(' ');
  }
  var named = { id: true, class: true, for: true, 'aria-describedby': true, 'aria-labelledby': true };

  // el makes an element; its id, class, for and aria id references get
  // the "kc-" prefix.
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else { node.setAttribute(k, named[k] ? prefixed(attrs[k]) : attrs[k]); }
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
        var needsIPs = ((g.allow_list_required || {})[resource] || []).indexOf(action) >= 0;
        if (!allowed) {
          input.disabled = true;
          input.setAttribute('aria-describedby', prefixed(id + '-reason'));
          item.append(el('span', { id: id + '-reason', class: 'reason', text: capSource + ' can’t grant this' }));
        } else if (needsIPs) {
          input.setAttribute('aria-describedby', prefixed(id + '-ips'));
          item.append(el('span', { id: id + '-ips', class: 'needs-ips', text: 'needs IP ranges' }));
        }
        group.append(item);
      });
      body.append(group);
    });
    var required = phrases(g.allow_list_required);
    $('key-ips-required').textContent = required.length ? ' A key that may ' + andList(required) + ' needs them.' : '';
    var max = g.max_lifetime_seconds;
    var expiry = $('key-expiry');
    Array.prototype.forEach.call(expiry.options, function (o) {
      o.disabled = max > 0 && (o.value === '' || Number(o.value) > max);
    });
    if (expiry.selectedOptions[0] && expiry.selectedOptions[0].disabled) { // a kind that lives shorter
      expiry.value = Array.prototype.filter.call(expiry.options, function (o) { return !o.disabled && Number(o.value) > 0; }).pop().value;
    }
  }

  // recordLabels names records by resource and id, from the pickers:
  // {"projects": {"1": "Website redesign"}}.
  var recordLabels = {};

  // renderRecords offers, for each resource whose records a key may be
  // limited to, "all my projects" or "only these", with the user's
  // projects to pick from.
  function renderRecords(g) {
    var body = $('records-body');
    body.replaceChildren();
    Object.keys(g.records || {}).sort().forEach(function (resource) {
      var records = g.records[resource];
      recordLabels[resource] = {};
      records.forEach(function (r) { recordLabels[resource][r.id] = r.label; });
      var all = el('input', { type: 'radio', id: 'scope-' + resource + '-all', name: 'scope-' + resource, value: 'all' });
      var only = el('input', { type: 'radio', id: 'scope-' + resource + '-only', name: 'scope-' + resource, value: 'only' });
      all.checked = all.defaultChecked = true; // form.reset() comes back to all
      var list = el('div', { class: 'record-list', id: 'records-' + resource }, records.map(function (r) {
        var id = 'record-' + resource + '-' + r.id;
        var box = el('input', { type: 'checkbox', id: id, name: 'record-' + resource, value: r.id });
        box.disabled = true;
        return el('div', { class: 'choice-row' }, [el('label', { for: id, class: 'choice' }, [box, document.createTextNode(' ' + r.label)]),
          el('span', { class: 'muted small', text: ' you may ' + andList(r.actions.slice().sort(byRank)) })]);
      }));
      var toggle = function () {
        list.querySelectorAll('input').forEach(function (box) { box.disabled = !only.checked; });
      };
      all.addEventListener('change', toggle);
      only.addEventListener('change', toggle);
      body.append(el('fieldset', { class: 'picker records', id: 'scope-' + resource }, [
        el('legend', { text: 'Which ' + resource + '?' }),
        el('div', { class: 'choice-row' }, [el('label', { for: all.id, class: 'choice' }, [all, document.createTextNode(' All my ' + resource)])]),
        el('div', { class: 'choice-row' }, [el('label', { for: only.id, class: 'choice' }, [only, document.createTextNode(' Only these:')])]),
        list,
        el('p', { class: 'muted small', text: 'The key works on ' + resource + ' you can reach when it is used: taken off one, the key stops working on it too.' })
      ]));
    });
  }

  // kind is the kind of key the create form makes: '' for the default.
  function kind() { return $('key-kind') ? $('key-kind').value : ''; }

  // grantables holds GET /grantable answers by kind, for the keys shown.
  var grantables = {};
  var drawnKind = ''; // the kind the create form was last drawn for

  // grantableFor resolves to what may be put on a key of kind k of the
  // owner shown (the cap, templates, longest expiry), or null.
  function grantableFor(k) {
    if (grantables[k]) { return Promise.resolve(grantables[k]); }
    var shown = owner;
    return api('GET', url('/grantable', { kind: k })).then(function (res) {
      if (!res.ok || shown !== owner) { return null; }
      grantables[k] = res.data;
      return res.data;
    });
  }

  // loadGrantable draws the create form for the owner and kind chosen:
  // the cap, the permissions (those still picked stay picked when the
  // new cap allows them), templates, records and the longest expiry.
  function loadGrantable() {
    var shown = owner + ' ' + kind();
    delete grantables[kind()];
    return api('GET', url('/grantable', { kind: kind() })).then(function (res) {
      if (shown !== owner + ' ' + kind()) { return; } // another owner or kind was chosen meanwhile
      if (!res.ok) { showError(pageError, humanize(res.error)); return; }
      grantables[kind()] = res.data;
      drawnKind = kind();
      var picked = Array.prototype.map.call(form.querySelectorAll('input[name=permission]:checked'), function (b) { return b.value; });
      $('cap').textContent = describe(res.data.permissions);
      renderPicker(res.data);
      picked.forEach(function (v) {
        var box = form.querySelector('input[name=permission][value="' + v + '"]');
        if (box && !box.disabled) { box.checked = true; }
      });
      if (hooks.grantable) { hooks.grantable(res.data); }
      renderRecords(res.data);
    });
  }

  // recordsNote says, under a key's permissions, which records it may touch.
  function recordsNote(k) {
    var res = k.resources || {};
    var names = Object.keys(res).sort();
    if (!names.length) { return null; }
    return note([document.createTextNode(names.map(function (r) {
      return 'only ' + r + ' ' + andList(res[r].map(function (id) {
        var label = (recordLabels[r] || {})[id];
        return label ? '“' + label + '”' : id;
      }));
    }).join('; '))], 'records');
  }

  // --- the key list ------------------------------------------------------

  // when shows a time as a date ("Nov 27, 2026"), or, with ago, as
  // "5 minutes ago" within a day; the full time is in the title.
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;
  function when(iso, none, ago) {
    if (!iso) { return document.createTextNode(none); }
    var d = new Date(iso);
    var text = d.toLocaleDateString(undefined, { dateStyle: 'medium' });
    if (ago && relative && Math.abs(d.getTime() - Date.now()) < 86400000) {
      text = fromNow(d);
    }
    return el('time', { datetime: iso, title: d.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' }), text: text });
  }

  // fromNow says how far d is: "5 minutes ago", "in 3 hours", "in 7 days".
  function fromNow(d) {
    var seconds = Math.round((d.getTime() - Date.now()) / 1000);
    var abs = Math.abs(seconds);
    if (!relative) { return d.toLocaleString(); }
    return abs < 60 ? relative.format(seconds, 'second')
      : abs < 3570 ? relative.format(Math.round(seconds / 60), 'minute')
        : abs < 2 * 86400 ? relative.format(Math.round(seconds / 3600), 'hour')
          : relative.format(Math.round(seconds / 86400), 'day');
  }

  // note is a small line under a cell's value: "expired 2 days ago".
  function note(children, cls) {
    return el('span', { class: 'when small ' + (cls || 'muted') }, children);
  }

  function cell(label, children, cls) {
    return el('td', { 'data-label': label, class: cls || '' }, children);
  }

  // statusNote says why a key is not active, or that its old secret
  // still works for a while after a rotation.
  function statusNote(k) {
    switch (k.status) {
      case 'revoked':
        return note([document.createTextNode('on '), when(k.revoked_at, ''),
          document.createTextNode(k.revoked_reason ? ': ' + k.revoked_reason : '')]);
      case 'expired':
        return note([document.createTextNode('on '), when(k.expires_at, '')]);
      case 'disabled':
        return note([document.createTextNode('turned off')]);
    }
    if (k.previous_secret_expires_at) {
      var until = new Date(k.previous_secret_expires_at);
      return note([document.createTextNode('rotated: the old key stops working '), el('time', {
        datetime: k.previous_secret_expires_at, text: fromNow(until),
        title: until.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' })
      })], 'warn');
    }
    return null;
  }

  function expiry(k) {
    if (!k.expires_at) { return [document.createTextNode('never')]; }
    var d = new Date(k.expires_at);
    var soon = d.getTime() - Date.now() < 14 * 86400000;
    return [when(k.expires_at, ''), k.status === 'active' && soon ? note([document.createTextNode(fromNow(d))], 'warn') : null];
  }

  function actionButton(kind, label, cls, k) {
    var button = el('button', { type: 'button', class: 'button small ' + cls }, [
      document.createTextNode(label), el('span', { class: 'visually-hidden', text: ' ' + k.name })]);
    button.setAttribute('data-' + kind, k.id);
    return button;
  }

  // usedFrom says, under a key's permissions, where it may be used from.
  function usedFrom(k) {
    var list = k.allowed_ips || [];
    if (!list.length) { return note([document.createTextNode('from anywhere')]); }
    var children = [document.createTextNode('only from ')];
    list.forEach(function (r, i) {
      if (i > 0) { children.push(document.createTextNode(i === list.length - 1 ? ' and ' : ', ')); }
      children.push(el('code', { text: r }));
    });
    return note(children, 'ranges');
  }

  function keyRow(k) {
    var buttons = [];
    if (k.status === 'active') {
      var rotate = actionButton('rotate', 'Rotate', 'secondary', k);
      rotate.addEventListener('click', function () { askRotate(k, rotate); });
      var ips = actionButton('ips', 'IP ranges', 'secondary', k);
      ips.addEventListener('click', function () { askIPs(k, ips); });
      buttons.push(rotate, ips);
    }
    if (hooks.rowButtons) { buttons = buttons.concat(hooks.rowButtons(k, actionButton)); }
    if (k.status !== 'revoked') {
      var revoke = actionButton('revoke', 'Revoke', 'danger', k);
      revoke.addEventListener('click', function () { askRevoke(k, revoke); });
      buttons.push(revoke);
    }
    var actions = buttons.length ? el('div', { class: 'action-buttons' }, buttons) : null;
    return el('tr', { 'data-key-id': k.id, class: 'status-' + k.status }, [
      el('th', { scope: 'row', 'data-label': 'Name' }, [document.createTextNode(k.name),
        k.description ? note([document.createTextNode(k.description)], 'muted description') : null,
        k.kind ? note([document.createTextNode(k.kind + ' key')], 'muted kind') : null]),
      cell('Key', [el('code', { class: 'hint', text: k.hint })]),
      cell('Permissions', [el('span', { text: describe(k.permissions) }), recordsNote(k), usedFrom(k)]),
      cell('Created', [when(k.created_at, '')]),
      cell('Last used', [when(k.last_used_at, 'never', true)]),
      cell('Expires', expiry(k)),
      cell('Status', [el('span', { class: 'badge ' + k.status, text: k.status }), statusNote(k),
        hooks.rowNotes ? hooks.rowNotes(k, note) : null]),
      cell('Actions', [actions], 'actions')
    ]);
  }

  // loadKeys lists the first page of keys again; more appends the next.
  function loadKeys(more) {
    var shown = owner;
    return api('GET', url('', { cursor: more ? nextCursor : '' })).then(function (res) {
      if (shown !== owner) { return; } // another owner was chosen meanwhile
      if (!res.ok) { showError(pageError, humanize(res.error)); return; }
      loaded = (more ? loaded : []).concat(res.data.keys || []);
      nextCursor = res.data.next_cursor || '';
      renderKeys();
    });
  }

  // renderKeys draws the loaded keys that pass the filter (active,
  // revoked, expired or all), and a button for the next page.
  function renderKeys() {
    var body = $('keys-body');
    var filter = $('keys-filter') ? $('keys-filter').value : 'all';
    body.replaceChildren();
    loaded.forEach(function (k) { keyNames[k.id] = k.name; });
    var list = loaded.filter(function (k) {
      return filter === 'all' || k.status === filter || (filter === 'active' && k.status === 'disabled');
    });
    var more = $('keys-more');
    if (more) { more.hidden = !nextCursor; }
    if (loaded.length === 0) {
      body.append(el('p', { class: 'muted', id: 'no-keys', text: 'You have no keys yet. Create one above.' }));
      return;
    }
    if (list.length === 0) {
      body.append(el('p', { class: 'muted', id: 'no-keys-shown', text: 'No ' + filter + ' keys' + (nextCursor ? ' among those loaded.' : '.') }));
      return;
    }
    var head = el('tr', {}, ['Name', 'Key', 'Permissions', 'Created', 'Last used', 'Expires', 'Status', 'Actions'].map(function (h) {
      return el('th', { scope: 'col', text: h });
    }));
    var table = el('table', { class: 'keys', id: 'keys-table' }, [
      el('caption', { class: 'visually-hidden', text: 'Your API keys, newest first' }),
      el('thead', {}, [head]), el('tbody', {}, list.map(keyRow))]);
    body.append(el('div', { class: 'table-wrap' }, [table]));
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
    return api('POST', url(''), body).then(function (res) {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
      if (!res.ok) {
        showError(createError, humanize(res.error));
        createError.focus();
        return loadActivity().then(function () { return res; }); // a refusal is audited too
      }
      form.reset();
      form.querySelectorAll('.kc-record-list input').forEach(function (box) { box.disabled = true; });
      showNewKey(res.data, $('create-submit'), '');
      announce('Key “' + res.data.name + '” created. Copy it now: it is shown only once.');
      return refresh().then(function () { return res; });
    });
  }

  // showNewKey shows a created or rotated key once, with a note (or none),
  // and moves focus to it; closing the panel focuses back.
  function showNewKey(k, back, text) {
    returnFocusTo = back;
    var keyNote = $('new-key-note');
    keyNote.textContent = text;
    keyNote.hidden = !text;
    $('new-key-name').textContent = k.name;
    $('new-key-value').value = k.key;
    // The try line calls the first route (Options.Try) the key may call,
    // or the first route at all; no routes: no try line.
    var routes = JSON.parse(main.dataset.try || '[]');
    var route = routes.filter(function (r) {
      var p = r[0].split(':');
      return (k.permissions[p[0]] || []).indexOf(p[1]) >= 0;
    })[0] || routes[0];
    $('curl-line').textContent = route ? 'curl -H "Authorization: Bearer ' + k.key + '" ' + window.location.origin + route[1] : '';
    $('try-it').hidden = !route;
    newKeyPanel.hidden = false;
    $('new-key-title').focus();
  }

  function closeNewKey() {
    $('new-key-value').value = '';
    $('curl-line').textContent = '';
    newKeyPanel.hidden = true;
    focusBack($('key-name'));
  }

  // focusBack focuses returnFocusTo (an element, or a selector for one the
  // key list re-rendered), or fallback when it is gone.
  function focusBack(fallback) {
    var target = typeof returnFocusTo === 'string' ? document.querySelector(returnFocusTo) : returnFocusTo;
    returnFocusTo = null;
    (target && document.contains(target) ? target : fallback).focus();
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
    if (kind()) { body.kind = kind(); }
    var expiry = $('key-expiry').value;
    if (expiry && expiry !== 'date') { body.expires_in = Number(expiry); }
    var ips = ranges($('key-ips').value);
    if (ips.length) { body.allowed_ips = ips; }
    var missing = null;
    form.querySelectorAll('input[value=only]:checked').forEach(function (only) {
      var resource = only.name.replace(/^scope-/, '');
      var ids = [];
      form.querySelectorAll('input[name="record-' + resource + '"]:checked').forEach(function (box) { ids.push(box.value); });
      if (!ids.length) { missing = missing || resource; }
      body.resources = body.resources || {};
      body.resources[resource] = ids;
    });
    if (missing) {
      showError(createError, 'Pick at least one of your ' + missing + ', or choose all of them.');
      createError.focus();
      return;
    }
    var problem = hooks.beforeCreate ? hooks.beforeCreate(body) : '';
    if (problem) {
      showError(createError, problem);
      createError.focus();
      return;
    }
    createKey(body);
  }

  // --- activity ---------------------------------------------------------

  // keyLabel names a key in a sentence: “CI reader”, or its id once the key
  // is off the list.
  function keyLabel(id) {
    if (!id) { return 'a key'; }
    return keyNames[id] ? '“' + keyNames[id] + '”' : 'key ' + id;
  }

  // who says who acted: "You", "Key “CI”", "bob", or within a sentence
  // (inside) "you", "key “CI”", "bob". A user id is never changed. kind
  // (the event's actor_kind) says which the actor is: a user's id may
  // itself read "key:…"; without a kind (an older server), the id's shape.
  function who(actor, inside, kind) {
    var phrase;
    if (actor === main.dataset.user && (!kind || kind === 'user')) {
      phrase = 'You';
    } else if (actor && actor.indexOf('key:') === 0 && (!kind || kind === 'key')) {
      phrase = 'Key ' + keyLabel(actor.slice(4));
    } else if (!actor) {
      phrase = 'Someone';
    } else {
      return actor;
    }
    return inside ? phrase.charAt(0).toLowerCase() + phrase.slice(1) : phrase;
  }

  // names lists permissions as written in guards: "files:delete".
  function names(perms) {
    var out = [];
    Object.keys(perms || {}).sort().forEach(function (r) {
      perms[r].slice().sort(byRank).forEach(function (a) { out.push(r + ':' + a); });
    });
    return andList(out);
  }

  function same(a, b) { return JSON.stringify(a || {}) === JSON.stringify(b || {}); }

  // denial explains why a request with a key was refused, from the
  // audited reason.
  function denial(reason) {
    switch (reason) {
      case 'keys: invalid key': return 'the key did not match (an old key after a rotation, or a copy with a typo)';
      case 'keys: invalid key: revoked': return 'the key is revoked';
      case 'keys: invalid key: disabled': return 'the key is turned off';
      case 'keys: invalid key: owner unknown or disabled': return 'its owner may no longer use keys';
      case 'keys: key expired': return 'the key has expired';
      case 'keys: malformed key': return 'the key is mistyped';
      case 'keys: the key may not be used from this address': return 'it came from an address outside the key’s IP ranges';
    }
    return stripPrefix(reason).replace(/[.]$/, '');
  }

  function stripPrefix(reason) { return String(reason || '').replace(/^keys: /, ''); }

  // refusal says why a change or a new key was refused, from the audited
  // reason (the error's text): in the page's words, never Go's.
  function refusal(reason) {
    var r = stripPrefix(reason);
    var m = /^requested lifetime (\S+) exceeds the maximum (\S+)$/.exec(r);
    if (m) {
      var asked = goDuration(m[1]);
      return (asked ? 'an expiry in ' + duration(asked) : 'a key that never expires') + ' exceeds the maximum of ' + duration(goDuration(m[2]));
    }
    m = /^invalid permissions at [^:]*: (.*)$/.exec(r);
    if (m) { return 'the permissions were not valid: ' + plainWords(m[1]); }
    m = /^a key that may (.*) must be limited to IP ranges$/.exec(r);
    if (m) { return 'a key that may ' + andList(m[1].split(' ').map(function (p) { return p.split(':').reverse().join(' '); })) + ' must be limited to IP ranges'; }
    return plainWords(r.replace(/^delegation: /, ''));
  }

  // quotaWords says how an update changed a key's quota: " Its request
  // quota is now 5 (before: 10).", or '' when it did not.
  function quotaWords(e) {
    var q = function (x) {
      return x.remaining + (x.refill_amount && x.refill_interval_seconds ? ', refilling to ' + x.refill_amount + ' every ' + duration(x.refill_interval_seconds) : '');
    };
    if (!e.before_quota && !e.after_quota) { return ''; }
    if (!e.after_quota) { return ' Its request quota was removed (before: ' + q(e.before_quota) + ').'; }
    return ' Its request quota is now ' + q(e.after_quota) + (e.before_quota ? ' (before: ' + q(e.before_quota) + ').' : ' (before: none).');
  }

  // eventText says what an audit event means, in a sentence.
  function eventText(e) {
    var key = keyLabel(e.key_id);
    var actor = who(e.actor, false, e.actor_kind);
    switch (e.type) {
      case 'created':
        return actor + ' created ' + key + ', allowed to ' + (andList(phrases(e.after)) || 'do nothing') + '.';
      case 'updated':
        var described = e.before_description !== e.after_description ? (e.after_description
          ? ' Its description is now “' + e.after_description + '”.' : ' Its description was removed.') : '';
        return (same(e.before, e.after) ? actor + ' changed ' + key + '.'
          : actor + ' changed ' + key + ': it may now ' + (andList(phrases(e.after)) || 'do nothing') +
            ' (before: ' + (andList(phrases(e.before)) || 'nothing') + ').') + described + quotaWords(e);
      case 'rotated':
        return actor + ' rotated ' + key + ': it has a new secret' +
          (same(e.before, e.after) ? '' : ' and may now ' + (andList(phrases(e.after)) || 'do nothing')) + '.';
      case 'revoked':
        return actor + ' revoked ' + key + (e.reason ? ' (reason: “' + e.reason + '”)' : '') + '.';
      case 'leaked':
        return key.charAt(0).toUpperCase() + key.slice(1) + ' was found in public and revoked (' + (e.reason || 'leaked') + ').';
      case 'disabled':
        return actor + ' turned off ' + key + '.';
      case 'enabled':
        return actor + ' turned ' + key + ' back on.';
      case 'refused':
        var what = (e.key_id ? 'a change to ' + key : 'a new key') + (actor === 'You' ? '' : ' (asked by ' + who(e.actor, true, e.actor_kind) + ')');
        if (e.after && Object.keys(e.after).length) {
          return 'Refused ' + what + ': asked for ' + names(e.after) + ', which ' + capSource + ' can’t grant.';
        }
        return 'Refused ' + what + ': ' + sentence(refusal(e.reason));
      case 'verification_denied':
        return 'A request with ' + key + ' was refused: ' + denial(e.reason) + (e.ip ? ' (from ' + e.ip + ').' : '.');
    }
    return sentence(e.type.replace(/_/g, ' ') + ' ' + key);
  }

  var eventLabels = {
    created: 'Created', updated: 'Changed', rotated: 'Rotated', revoked: 'Revoked', leaked: 'Leaked', disabled: 'Turned off',
    enabled: 'Turned on', refused: 'Refused', verification_denied: 'Request refused'
  };

  function eventItem(e) {
    return el('li', { class: 'event event-' + e.type, 'data-event': e.type, 'data-key-id': e.key_id || '' }, [
      el('span', { class: 'event-type', 'aria-hidden': 'true', text: eventLabels[e.type] || e.type }), // the sentence says it
      el('span', { class: 'event-text', text: eventText(e) }),
      el('span', { class: 'event-time small muted' }, [when(e.time, '', true)])
    ]);
  }

  function loadActivity() {
    if (!activityBody) { return Promise.resolve(); }
    activityBody.setAttribute('aria-busy', 'true');
    var shown = owner;
    return api('GET', url('/activity', { limit: 20 })).then(function (res) {
      if (shown !== owner) { return; }
      activityBody.removeAttribute('aria-busy');
      if (!res.ok) {
        activityBody.replaceChildren(el('p', { class: 'alert error', text: 'The activity could not be loaded. ' + humanize(res.error) }));
        return;
      }
      var events = res.data.events || [];
      if (events.length === 0) {
        activityBody.replaceChildren(el('p', { class: 'muted', id: 'no-activity', text: 'Nothing yet: creating a key will show here.' }));
        return;
      }
      activityBody.replaceChildren(el('ol', { class: 'activity', id: 'activity-list', 'aria-label': 'Recent activity, newest first' },
        events.map(eventItem)));
    });
  }

  // refresh reloads the keys, then the activity (which names them).
  function refresh() {
    return loadKeys().then(loadActivity);
  }

  // --- revoking a key ----------------------------------------------------

  function askRevoke(k, button) {
    revoking = k;
    returnFocusTo = button;
    $('revoke-name').textContent = k.name;
    if ($('revoke-reason')) { $('revoke-reason').value = ''; }
    dialog.showModal(); // focus moves to Cancel (autofocus)
  }

  function confirmRevoke() {
    var k = revoking;
    var confirmButton = $('revoke-confirm');
    confirmButton.disabled = true;
    var reason = $('revoke-reason') ? $('revoke-reason').value.trim() : '';
    api('DELETE', url('/' + encodeURIComponent(k.id)), reason ? { reason: reason } : undefined).then(function (res) {
      confirmButton.disabled = false;
      returnFocusTo = $('keys-title');
      dialog.close();
      if (!res.ok) {
        showError(pageError, humanize(res.error));
        return refresh();
      }
      hideError(pageError);
      announce('Key “' + k.name + '” revoked. Requests with it are now refused.');
      return refresh();
    });
  }

  dialog.addEventListener('close', function () {
    revoking = null;
    focusBack($('keys-title'));
  });

  // --- rotating a key ----------------------------------------------------

  function askRotate(k, button) {
    rotating = k;
    rotateBack = '[data-rotate="' + k.id + '"]'; // a selector: the list may be drawn again meanwhile
    $('rotate-name').textContent = k.name;
    hideError(rotateError);
    rotateForm.reset(); // "now" again
    rotateDialog.showModal(); // focus moves to the checked choice (autofocus)
  }

  function graceText(seconds, k) {
    if (!seconds) { return 'The old key stopped working: scripts must use this one.'; }
    var until = k.previous_secret_expires_at ? new Date(k.previous_secret_expires_at) : new Date(Date.now() + seconds * 1000);
    return 'The old key keeps working until ' + until.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) +
      ' (' + duration(seconds) + '); switch your scripts to this one before then.';
  }

  function confirmRotate(event) {
    event.preventDefault();
    var k = rotating;
    var grace = Number(rotateForm.elements.grace.value);
    var confirmButton = $('rotate-confirm');
    confirmButton.disabled = true;
    rotateForm.setAttribute('aria-busy', 'true');
    hideError(rotateError);
    api('POST', url('/' + encodeURIComponent(k.id) + '/rotate'), { grace_seconds: grace }).then(function (res) {
      confirmButton.disabled = false;
      rotateForm.removeAttribute('aria-busy');
      if (!res.ok) {
        showError(rotateError, humanize(res.error));
        rotateError.focus();
        return loadActivity();
      }
      var back = rotateBack;
      rotateBack = null; // the dialog's close event leaves focus to the panel
      rotateDialog.close();
      hideError(pageError);
      showNewKey(res.data, back, graceText(grace, res.data));
      announce('Key “' + k.name + '” rotated. Copy the new key now: it is shown only once.');
      return refresh();
    });
  }

  rotateDialog.addEventListener('close', function () {
    rotating = null;
    if (rotateBack) {
      returnFocusTo = rotateBack;
      rotateBack = null;
      focusBack($('keys-title'));
    }
  });
  // --- a key's IP ranges ---------------------------------------------------

  function askIPs(k, button) {
    editing = k;
    ipsBack = '[data-ips="' + k.id + '"]'; // a selector: the list may be drawn again meanwhile
    $('ips-name').textContent = k.name;
    $('ips-value').value = (k.allowed_ips || []).join('\n');
    hideError(ipsError);
    ipsDialog.showModal(); // focus moves to the ranges (autofocus)
  }

  function confirmIPs(event) {
    event.preventDefault();
    var k = editing;
    var save = $('ips-save');
    save.disabled = true;
    ipsForm.setAttribute('aria-busy', 'true');
    hideError(ipsError);
    var list = ranges($('ips-value').value);
    api('PATCH', url('/' + encodeURIComponent(k.id)), { allowed_ips: list }).then(function (res) {
      save.disabled = false;
      ipsForm.removeAttribute('aria-busy');
      if (!res.ok) {
        showError(ipsError, humanize(res.error));
        ipsError.focus();
        return loadActivity();
      }
      var back = ipsBack;
      ipsBack = null; // the list is drawn again: focus goes back once it is
      ipsDialog.close();
      hideError(pageError);
      var where = res.data.allowed_ips.length ? 'only from ' + andList(res.data.allowed_ips) : 'from anywhere';
      announce('Key “' + k.name + '” may now be used ' + where + '.');
      return refresh().then(function () {
        returnFocusTo = back;
        focusBack($('keys-title'));
      });
    });
  }

  ipsDialog.addEventListener('close', function () {
    editing = null;
    if (ipsBack) { // cancelled
      returnFocusTo = ipsBack;
      ipsBack = null;
      focusBack($('keys-title'));
    }
  });
  ipsForm.addEventListener('submit', confirmIPs);
  $('ips-cancel').addEventListener('click', function () { ipsDialog.close(); });
  rotateForm.addEventListener('submit', confirmRotate);
  $('rotate-cancel').addEventListener('click', function () { rotateDialog.close(); });
  $('revoke-cancel').addEventListener('click', function () { dialog.close(); });
  $('revoke-confirm').addEventListener('click', confirmRevoke);
  $('copy-key').addEventListener('click', copyKey);
  $('new-key-done').addEventListener('click', closeNewKey);
  form.addEventListener('submit', onSubmit);
  form.addEventListener('change', function () { hideError(createError); });
  $('keys-title').setAttribute('tabindex', '-1');
  if (activityBody) {
    $('activity-refresh').addEventListener('click', function () {
      refresh().then(function () { announce('Activity refreshed.'); });
    });
  }

  // showOwner shows the keys of another owner: the user's own (''), or an
  // organization's they manage (Options.Owners). The form, the list and
  // the activity are drawn again for it; every call carries ?owner=.
  function showOwner(id, name) {
    owner = id;
    ownerName = id ? name : '';
    capSource = id ? name + '’s limit with your rights in it' : ownCapSource;
    grantables = {};
    loaded = [];
    nextCursor = '';
    main.dataset.owner = id;
    $('keys-title').textContent = id ? keysOf + ' ' + name : keysTitle;
    $('create-title').textContent = id ? createTitle + ': ' + name : createTitle;
    $('create-submit').textContent = id ? createTitle + ' for ' + name : createButton;
    hideError(createError);
    hideError(pageError);
    $('keys-body').replaceChildren(el('p', { class: 'muted', text: loading }));
    return Promise.all([loadGrantable(), refresh()]).then(function () {
      if (owner === id) { announce(id ? 'Showing the keys of ' + name + '.' : 'Showing your own keys.'); }
    });
  }
  var keysTitle = $('keys-title').textContent;
  var createTitle = $('create-title').textContent;
  var createButton = $('create-submit').textContent;
  var keysOf = $('owner') ? $('owner').labels[0].textContent : '';
  var loading = $('keys-body').textContent.trim();
  if ($('owner')) {
    $('owner').value = ''; // a reload starts from the user's own keys, whatever the browser kept
    $('owner').addEventListener('change', function () {
      var o = $('owner').selectedOptions[0];
      if (o) { showOwner(o.value, o.textContent); }
    });
  }
  form.addEventListener('reset', function () {
    window.setTimeout(function () { if (kind() !== drawnKind) { loadGrantable(); } }, 0); // the kind is back to the default
  });
  if ($('key-kind')) {
    $('key-kind').addEventListener('change', function () {
      loadGrantable().then(function () {
        var k = $('key-kind').selectedOptions[0].textContent;
        announce('Permissions and templates for a ' + k + ' key: you may grant ' + $('cap').textContent + '.');
      });
    });
  }

  if ($('keys-filter')) {
    $('keys-filter').addEventListener('change', function () {
      renderKeys();
      announce('Showing ' + $('keys-filter').selectedOptions[0].textContent.toLowerCase() + '.');
    });
    $('keys-more').addEventListener('click', function () {
      loadKeys(true).then(function () { announce('More keys loaded.'); });
    });
  }

  window.keycap = { createKey: createKey, loadKeys: loadKeys, loadActivity: loadActivity, humanize: humanize, describe: describe, eventText: eventText,
    // for keycap-manage.js
    hooks: hooks, api: api, el: el, prefixed: prefixed, announce: announce, showError: showError, hideError: hideError, refresh: refresh,
    when: when, fromNow: fromNow, phrases: phrases, duration: duration, plainWords: plainWords, andList: andList, byRank: byRank, url: url, RawJSON: RawJSON,
    capSource: function () { return capSource; }, owner: function () { return owner; }, grantableFor: grantableFor,
    keys: function () { return loaded; }, focusBack: function (to, fallback) { returnFocusTo = to; focusBack(fallback); } };
  Promise.all([loadGrantable(), refresh()]).then(function () { main.dataset.ready = 'true'; });
})();
