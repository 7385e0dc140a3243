// keycap's key-management page, part two (package ui): templates, custom
// expiry dates, quotas, editing, details, turning keys off and on. It
// builds on window.keycap from keycap.js, which is loaded first.
(function () {
  'use strict';

  var kc = window.keycap;
  if (!kc) { return; } // no page here
  var $ = function (id) { return document.getElementById(kc.prefixed(id)); }; // ids start with "kc-" (keycap.js)
  var el = kc.el;
  var grantable = null; // the last GET /grantable answer
  var editing = null;   // the key the edit dialog changes
  var editDialog = $('edit-dialog');
  var detailDialog = $('detail-dialog');

  function permsOf(boxes) {
    var perms = {};
    boxes.forEach(function (box) {
      var parts = box.value.split(':');
      (perms[parts[0]] = perms[parts[0]] || []).push(parts[1]);
    });
    return perms;
  }

  function samePerms(a, b) {
    var flat = function (p) {
      return Object.keys(p || {}).reduce(function (all, r) {
        return all.concat(p[r].map(function (x) { return r + ':' + x; }));
      }, []).sort().join(' ');
    };
    return flat(a) === flat(b);
  }

  function days(seconds) { return Math.floor(seconds / 86400); }

  // --- metadata ------------------------------------------------------------

  // readMetadata checks the JSON a person typed as a key's metadata before
  // anything is sent: {raw, value} (raw null when empty), or {problem}
  // saying what to fix. The server checks the rest (depth, names).
  function readMetadata(text) {
    text = String(text || '').trim();
    if (!text) { return { raw: null, value: null }; }
    var value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { problem: 'The metadata is not valid JSON' + where(text, e) + ': check the quotes, commas and braces. Write an object such as {"environment": "staging"}.' };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { problem: 'The metadata must be one JSON object, in braces, such as {"environment": "staging"}.' };
    }
    var size = new TextEncoder().encode(JSON.stringify(value)).length;
    if (size > 4096) {
      return { problem: 'The metadata is ' + size + ' bytes long written compactly; it may be at most 4096 (4 KiB). Shorten it.' };
    }
    return { raw: new kc.RawJSON(text), value: value };
  }

  // where says where JSON.parse stopped: " (near line 2, column 5)", or ''.
  function where(text, e) {
    var m = /position (\d+)/.exec(String(e && e.message));
    if (!m) { return ''; }
    var before = text.slice(0, Number(m[1])).split('\n');
    return ' (near line ' + before.length + ', column ' + (before[before.length - 1].length + 1) + ')';
  }

  // canonical is value as JSON with object members sorted, to compare.
  function canonical(value) {
    if (Array.isArray(value)) { return '[' + value.map(canonical).join(',') + ']'; }
    if (value && typeof value === 'object') {
      return '{' + Object.keys(value).sort().map(function (k) { return JSON.stringify(k) + ':' + canonical(value[k]); }).join(',') + '}';
    }
    return JSON.stringify(value);
  }

  function hasMetadata(k) { return !!k.metadata && Object.keys(k.metadata).length > 0; }

  // --- templates and the longest expiry ----------------------------------

  kc.hooks.grantable = function (g) {
    grantable = g;
    var select = $('key-template');
    var templates = g.templates || [];
    $('template-field').hidden = templates.length === 0;
    select.replaceChildren(el('option', { value: '', text: 'None: pick permissions below' }));
    templates.forEach(function (t) {
      var label = t.name + (t.description ? ' — ' + t.description : '');
      if (!t.available) {
        label += ' (not for you: ' + kc.capSource() + ' can’t grant ' + kc.andList(kc.phrases(t.dropped)) + ')';
      }
      var option = el('option', { value: t.name, text: label });
      option.disabled = !t.available;
      select.append(option);
    });
    var max = g.max_lifetime_seconds;
    var date = $('key-expiry-date');
    $('key-expiry-max').textContent = max > 0 ? 'Keys may live at most ' + days(max) + ' days.' : 'Keys may live as long as you like.';
    if (max > 0) {
      date.max = new Date(Date.now() + max * 1000).toISOString().slice(0, 10);
    }
    date.min = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  };

  function templateChosen() {
    var name = $('key-template').value;
    var t = (grantable && grantable.templates || []).filter(function (x) { return x.name === name; })[0];
    if (!t) { return; }
    document.querySelectorAll('#kc-picker-body input[name=permission]').forEach(function (box) {
      var parts = box.value.split(':');
      box.checked = (t.permissions[parts[0]] || []).indexOf(parts[1]) >= 0;
    });
    kc.announce('Template “' + t.name + '” picked: ' + kc.describe(t.permissions) + '.');
  }

  function expiryChosen() {
    var custom = $('key-expiry').value === 'date';
    $('key-expiry-date-field').hidden = !custom;
    if (custom) { $('key-expiry-date').focus(); }
  }

  // beforeCreate adds the template, the custom expiry and the quota to a
  // new key's request, or says what to fix.
  kc.hooks.beforeCreate = function (body) {
    var name = $('key-template').value;
    var t = (grantable && grantable.templates || []).filter(function (x) { return x.name === name; })[0];
    if (t && samePerms(t.permissions, body.permissions)) {
      delete body.permissions;
      body.template = t.name; // created, refused and audited as its permissions
    }
    if ($('key-expiry').value === 'date') {
      var value = $('key-expiry-date').value;
      if (!value) { return 'Pick the date the key should expire on.'; }
      var end = new Date(value + 'T23:59:59');
      var seconds = Math.round((end.getTime() - Date.now()) / 1000);
      if (!(seconds > 0)) { return 'Pick a date in the future for the key to expire on.'; }
      body.expires_in = seconds;
    }
    var description = $('key-description').value.trim();
    if (description) { body.description = description; }
    if ($('key-metadata')) {
      var md = readMetadata($('key-metadata').value);
      if (md.problem) { return md.problem; }
      if (md.value && Object.keys(md.value).length) { body.metadata = md.raw; }
    }
    var quota = $('key-quota').value.trim();
    if (quota) {
      if (!/^[1-9][0-9]*$/.test(quota)) { return 'The request quota is a whole number of requests, at least 1; leave it empty for no quota.'; }
      body.remaining = Number(quota);
    }
    var refill = $('key-refill-amount').value.trim();
    var every = $('key-refill-interval').value;
    if (refill || every) {
      if (!refill) { return 'Say how many requests the quota refills to, or choose “' + $('key-refill-interval').options[0].text + '”.'; }
      if (!/^[1-9][0-9]*$/.test(refill)) { return 'The quota refill is a whole number of requests, at least 1; leave it empty for no refill.'; }
      if (!every) { return 'Choose how often the quota refills to ' + refill + ' requests, or leave the refill empty.'; }
      if (!quota) { return 'A refill needs a request quota: say how many requests the key may make until the first refill.'; }
      body.refill_amount = Number(refill);
      body.refill_interval_seconds = Number(every);
    }
    return '';
  };

  // refillText says how a key's quota refills: "back to 50 requests every
  // hour", or '' when it does not.
  function refillText(k) {
    if (!k.refill_amount || !k.refill_interval_seconds) { return ''; }
    var every = k.refill_interval_seconds === 3600 ? 'hour' : k.refill_interval_seconds === 86400 ? 'day'
      : k.refill_interval_seconds === 604800 ? 'week' : kc.duration(k.refill_interval_seconds);
    return 'back to ' + k.refill_amount + (k.refill_amount === 1 ? ' request' : ' requests') + ' every ' + every;
  }

  // --- the key list: quota, edit, details, off and on ---------------------

  kc.hooks.rowNotes = function (k, note) {
    if (k.remaining === undefined || k.remaining === null) { return null; }
    var text = k.remaining === 0 ? 'quota spent: requests are refused' : k.remaining + ' requests left';
    var refill = refillText(k);
    if (refill) { text += ' (refills ' + refill + ')'; }
    return note([document.createTextNode(text)], k.remaining === 0 ? 'warn quota' : 'muted quota');
  };

  kc.hooks.rowButtons = function (k, actionButton) {
    var buttons = [];
    var details = actionButton('details', 'Details', 'secondary', k);
    details.addEventListener('click', function () { showDetails(k, details); });
    buttons.push(details);
    if (k.status === 'active') {
      var edit = actionButton('edit', 'Edit', 'secondary', k);
      edit.addEventListener('click', function () { askEdit(k, edit); });
      buttons.push(edit);
    }
    if (k.status === 'active' || k.status === 'disabled') {
      var off = k.status === 'active';
      var toggle = actionButton(off ? 'disable' : 'enable', off ? 'Turn off' : 'Turn on', 'secondary', k);
      toggle.addEventListener('click', function () { setDisabled(k, off); });
      buttons.push(toggle);
    }
    return buttons;
  };

  function setDisabled(k, off) {
    kc.api('PATCH', kc.url('/' + encodeURIComponent(k.id)), { disabled: off }).then(function (res) {
      if (!res.ok) {
        kc.showError($('page-error'), kc.humanize(res.error));
        return;
      }
      kc.hideError($('page-error'));
      kc.announce('Key “' + k.name + '” ' + (off ? 'turned off: requests with it are refused until you turn it on.' : 'turned on again.'));
      return kc.refresh().then(function () {
        var again = document.querySelector('[data-' + (off ? 'enable' : 'disable') + '="' + k.id + '"]');
        if (again) { again.focus(); }
      });
    });
  }

  function askEdit(k, button) {
    editing = k;
    editDialog.dataset.back = '[data-edit="' + k.id + '"]';
    $('edit-title-name').textContent = k.name;
    $('edit-name').value = k.name;
    $('edit-description').value = k.description || '';
    var hasQuota = k.remaining !== undefined && k.remaining !== null;
    $('edit-quota').textContent = hasQuota ? 'Request quota now: ' + k.remaining + ' left' + (refillText(k) ? ', refilling ' + refillText(k) : '') + '.'
      : 'No request quota now: the key’s requests are not counted.';
    $('edit-remaining').value = hasQuota ? String(k.remaining) : '';
    $('edit-refill-amount').value = k.refill_amount ? String(k.refill_amount) : '';
    var interval = $('edit-refill-interval');
    var every = k.refill_interval_seconds ? String(k.refill_interval_seconds) : '';
    if (every && !Array.prototype.some.call(interval.options, function (o) { return o.value === every; })) {
      interval.append(el('option', { value: every, text: kc.duration(k.refill_interval_seconds) })); // a refill set through the API
    }
    interval.value = every;
    $('edit-expiry').value = '';
    if ($('edit-metadata')) { $('edit-metadata').value = hasMetadata(k) ? JSON.stringify(k.metadata, null, 2) : ''; }
    kc.hideError($('edit-error'));
    kc.grantableFor(k.kind || '').then(function (g) { // a key's cap is its kind's
      if (editing !== k) { return; }
      editPicker(k, g);
      editDialog.showModal();
      $('edit-name').focus();
    });
  }

  // editPicker draws the edit dialog's permissions: those of g (the cap
  // for k's kind) may be picked, the others are greyed out with why.
  function editPicker(k, g) {
    var body = $('edit-perms');
    body.replaceChildren();
    var cap = g ? g.permissions : {};
    var known = g ? g.known : k.permissions;
    Object.keys(known).sort().forEach(function (resource) {
      var group = el('fieldset', { class: 'resource' }, [el('legend', { text: resource })]);
      known[resource].slice().sort(kc.byRank).forEach(function (action) {
        var id = 'edit-perm-' + resource + '-' + action;
        var allowed = (cap[resource] || []).indexOf(action) >= 0;
        var input = el('input', { type: 'checkbox', id: id, name: 'permission', value: resource + ':' + action });
        input.checked = (k.permissions[resource] || []).indexOf(action) >= 0;
        var item = el('div', { class: 'choice-row' }, [el('label', { for: id, class: 'choice' + (allowed ? '' : ' disabled') },
          [input, document.createTextNode(' ' + action)])]);
        if (!allowed) {
          input.disabled = true;
          input.setAttribute('aria-describedby', kc.prefixed(id + '-reason'));
          item.append(el('span', { id: id + '-reason', class: 'reason', text: kc.capSource() + ' can’t grant this' }));
        }
        group.append(item);
      });
      body.append(group);
    });
  }

  function saveEdit(event) {
    event.preventDefault();
    var k = editing;
    var change = {};
    var name = $('edit-name').value.trim();
    if (!name) {
      kc.showError($('edit-error'), 'Give the key a name, so you can recognise it later.');
      $('edit-error').focus();
      return;
    }
    if (name !== k.name) { change.name = name; }
    var description = $('edit-description').value.trim();
    if (description !== (k.description || '')) { change.description = description; }
    var perms = permsOf(editDialog.querySelectorAll('input[name=permission]:checked'));
    if (Object.keys(perms).length === 0) {
      kc.showError($('edit-error'), 'Keep at least one permission, or revoke the key instead.');
      $('edit-error').focus();
      return;
    }
    if (!samePerms(perms, k.permissions)) { change.permissions = perms; }
    if ($('edit-expiry').value) { change.expires_in = Number($('edit-expiry').value); }
    var problem = quotaChange(k, change) || metadataChange(k, change);
    if (problem) {
      kc.showError($('edit-error'), problem);
      $('edit-error').focus();
      return;
    }
    if (Object.keys(change).length === 0) {
      editDialog.close();
      kc.announce('Nothing changed.');
      return;
    }
    $('edit-save').disabled = true;
    kc.api('PATCH', kc.url('/' + encodeURIComponent(k.id)), change).then(function (res) {
      $('edit-save').disabled = false;
      if (!res.ok) {
        kc.showError($('edit-error'), kc.humanize(res.error));
        $('edit-error').focus();
        return kc.loadActivity(); // a refusal is audited too
      }
      editDialog.close();
      kc.hideError($('page-error'));
      var left = res.data.remaining === undefined || res.data.remaining === null ? ' It has no request quota.' : ' It has ' + res.data.remaining + ' requests left.';
      kc.announce('Key “' + res.data.name + '” saved: it may now ' + kc.describe(res.data.permissions) + '.' + left);
      return kc.refresh();
    });
  }

  // metadataChange adds to change the metadata typed in the edit dialog
  // when it differs from k's ({} removes it), or says what to fix.
  function metadataChange(k, change) {
    if (!$('edit-metadata')) { return ''; }
    var md = readMetadata($('edit-metadata').value);
    if (md.problem) { return md.problem; }
    if (!md.value || Object.keys(md.value).length === 0) {
      if (hasMetadata(k)) { change.metadata = {}; }
      return '';
    }
    if (canonical(md.value) !== canonical(k.metadata || {})) { change.metadata = md.raw; }
    return '';
  }

  // quotaChange adds to change what the edit dialog's quota fields change
  // of k's quota (only what differs from it: a lowering the user did not
  // ask for is never sent), or says what to fix.
  function quotaChange(k, change) {
    var hasQuota = k.remaining !== undefined && k.remaining !== null;
    var quota = $('edit-remaining').value.trim();
    var refill = $('edit-refill-amount').value.trim();
    var every = $('edit-refill-interval').value;
    if (quota && !/^(0|[1-9][0-9]*)$/.test(quota)) { return 'The request quota is a whole number of requests, 0 or more; leave it empty for no quota.'; }
    if (refill && !/^[1-9][0-9]*$/.test(refill)) { return 'The quota refill is a whole number of requests, at least 1; leave it empty for no refill.'; }
    if (refill && !every) { return 'Choose how often the quota refills to ' + refill + ' requests, or leave the refill empty.'; }
    if (!refill && every) { return 'Say how many requests the quota refills to, or choose “' + $('edit-refill-interval').options[0].text + '”.'; }
    if (!quota) {
      if (refill) { return 'A refill needs a request quota: say how many requests the key may make until the next refill.'; }
      if (hasQuota) { change.remaining = null; } // removes the quota and its refill
      return '';
    }
    if (!hasQuota || Number(quota) !== k.remaining) { change.remaining = Number(quota); }
    var amount = refill ? Number(refill) : 0;
    var seconds = every ? Number(every) : 0;
    if (amount !== (k.refill_amount || 0) || seconds !== (k.refill_interval_seconds || 0)) {
      change.refill_amount = amount;
      change.refill_interval_seconds = seconds;
    }
    return '';
  }

  // --- details -----------------------------------------------------------

  function row(list, label, value) {
    if (value === null || value === undefined || value === '') { return; }
    list.append(el('dt', { text: label }), el('dd', {}, [typeof value === 'string' ? document.createTextNode(value) : value]));
  }

  function showDetails(k, button) {
    detailDialog.dataset.back = '[data-details="' + k.id + '"]';
    $('detail-name').textContent = k.name;
    var list = el('dl', { class: 'details', id: 'detail-list' });
    row(list, 'Status', k.status + (k.revoked_reason ? ': ' + k.revoked_reason : ''));
    row(list, 'Description', k.description ? el('span', { class: 'description', id: 'detail-description', text: k.description }) : 'none');
    row(list, 'Key', el('code', { text: k.hint }));
    if ($('key-kind') || k.kind) { row(list, 'Kind', k.kind || ($('key-kind') ? $('key-kind').options[0].textContent : '')); }
    row(list, 'Permissions', kc.describe(k.permissions));
    row(list, 'Metadata', hasMetadata(k) ? el('pre', { class: 'metadata', id: 'detail-metadata', text: JSON.stringify(k.metadata, null, 2) }) : 'none');
    row(list, 'May be used from', (k.allowed_ips || []).length ? k.allowed_ips.join(', ') : 'anywhere');
    var quota = k.remaining === undefined || k.remaining === null;
    row(list, 'Requests left', quota ? 'no quota' : String(k.remaining));
    row(list, 'Quota refill', quota ? null : refillText(k) ? refillText(k) + (k.last_refill_at ? '; last refilled ' + stamp(k.last_refill_at) : '; not refilled yet') : 'none');
    row(list, 'Created', stamp(k.created_at));
    row(list, 'Created by', k.created_by_kind === 'key' ? 'the key ' + (keyName(k.created_by.slice(4)) || k.created_by.slice(4)) : k.created_by);
    row(list, 'Parent key', k.parent_id ? (keyName(k.parent_id) ? keyName(k.parent_id) + ' (' + k.parent_id + ')' : k.parent_id) : 'none: created by a person');
    row(list, 'Last used', k.last_used_at ? stamp(k.last_used_at) : 'never');
    row(list, 'Last used from', k.last_used_ip || (k.last_used_at ? 'unknown' : null));
    row(list, 'Expires', k.expires_at ? stamp(k.expires_at) : 'never');
    if (k.revoked_at) { row(list, 'Revoked', stamp(k.revoked_at) + (k.revoked_by ? ' by ' + k.revoked_by : '')); }
    $('detail-body').replaceChildren(list);
    var activity = $('detail-activity');
    activity.replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
    detailDialog.showModal();
    $('detail-close').focus();
    kc.api('GET', kc.url('/activity', { limit: 100 })).then(function (res) {
      if (!res.ok) {
        activity.replaceChildren(el('p', { class: 'muted', text: res.status === 404 ? 'This app keeps no activity log.' : kc.humanize(res.error) }));
        return;
      }
      var events = (res.data.events || []).filter(function (e) { return e.key_id === k.id; });
      activity.replaceChildren(events.length ? el('ol', { class: 'activity', id: 'detail-events' }, events.map(function (e) {
        return el('li', { class: 'event event-' + e.type }, [el('span', { class: 'event-text', text: kc.eventText(e) }),
          el('span', { class: 'event-time muted small', text: stamp(e.time) })]);
      })) : el('p', { class: 'muted', text: 'Nothing recorded for this key yet.' }));
    });
  }

  // stamp is a time with the time of day and how long ago: "Nov 27, 2026, 14:05 (3 hours ago)".
  function stamp(iso) {
    var d = new Date(iso);
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) + ' (' + kc.fromNow(d) + ')';
  }

  function keyName(id) {
    var k = kc.keys().filter(function (x) { return x.id === id; })[0];
    return k ? '“' + k.name + '”' : '';
  }

  function closed(dialog) {
    return function () {
      var back = dialog.dataset.back && document.querySelector(dialog.dataset.back);
      (back || $('keys-title')).focus();
    };
  }

  $('key-template').addEventListener('change', templateChosen);
  $('key-expiry').addEventListener('change', expiryChosen);
  $('create-form').addEventListener('reset', function () {
    window.setTimeout(expiryChosen, 0);
  });
  $('edit-form').addEventListener('submit', saveEdit);
  $('edit-cancel').addEventListener('click', function () { editDialog.close(); });
  editDialog.addEventListener('close', closed(editDialog));
  $('detail-close').addEventListener('click', function () { detailDialog.close(); });
  detailDialog.addEventListener('close', closed(detailDialog));
})();
