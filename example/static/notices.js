// The Notices panel of the keycap example: what the notices scheduler told
// the logged-in user about their keys (GET /notices), in sentences.
(function () {
  'use strict';

  var body = document.getElementById('notices-body');
  var refreshButton = document.getElementById('notices-refresh');
  var status = document.getElementById('kc-status');
  if (!body) {
    return; // the login page
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }

  function day(iso) { return String(iso || '').slice(0, 10); }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  // by says who acted, in a sentence.
  function by(n) {
    if (n.actor === 'system:secret-scanning') { return 'GitHub secret scanning'; }
    if (n.actor === 'system:staleness') { return 'the policy on unused keys'; }
    if (n.actor_kind === 'user') { return n.actor.slice(5) === document.getElementById('main').dataset.user ? 'you' : 'an administrator (' + n.actor.slice(5) + ')'; }
    return n.actor || 'someone';
  }

  // noticeText says what a notice means, in a sentence.
  function noticeText(n) {
    var key = '“' + n.key_name + '”';
    switch (n.type) {
      case 'expiring':
        return key + ' expires in ' + plural(Math.round(n.lead_seconds / 86400), 'day') + ', on ' + day(n.at) + ': create another key before then.';
      case 'expired':
        return key + ' expired on ' + day(n.at) + '.';
      case 'stale':
        return key + ' has not been used since ' + day(n.at) + ': revoke it if you no longer need it.';
      case 'revoked':
        if (n.actor === 'system:secret-scanning') {
          return key + ' was found in public and revoked at once (' + n.reason + '). Create a new key and keep it out of code.';
        }
        return key + ' was revoked by ' + by(n) + (n.reason ? ' (reason: “' + n.reason + '”)' : '') + '.';
      case 'disabled':
        if (n.actor === 'system:staleness') {
          return key + ' was turned off because it went unused; you can turn it back on.';
        }
        return key + ' was turned off by ' + by(n) + '.';
    }
    return n.type + ': ' + key + '.';
  }

  var labels = { expiring: 'Expires soon', expired: 'Expired', stale: 'Unused', revoked: 'Revoked', disabled: 'Turned off' };

  function item(n) {
    var kind = n.type === 'revoked' && n.actor === 'system:secret-scanning' ? 'leaked' : n.type;
    return el('li', { class: 'kc-event kc-event-' + kind, 'data-notice': n.type, 'data-key-id': n.key_id }, [
      el('span', { class: 'kc-event-type', 'aria-hidden': 'true', text: kind === 'leaked' ? 'Leaked' : labels[n.type] || n.type }),
      el('span', { class: 'kc-event-text', text: noticeText(n) }),
      el('span', { class: 'kc-event-time kc-small kc-muted' }, [el('time', { datetime: n.sent_at, text: day(n.sent_at) })])
    ]);
  }

  function load() {
    body.setAttribute('aria-busy', 'true');
    return fetch('/notices', { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (resp) {
      return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
    }).catch(function () { return { ok: false, data: null }; }).then(function (res) {
      body.removeAttribute('aria-busy');
      if (!res.ok) {
        body.replaceChildren(el('p', { class: 'kc-alert kc-error', text: 'The notices could not be loaded. ' + ((res.data && res.data.message) || 'Try again.') }));
        return;
      }
      var list = res.data.notices || [];
      if (list.length === 0) {
        body.replaceChildren(el('p', { class: 'kc-muted', id: 'no-notices', text: 'No notices: we will tell you here before a key expires, or if one leaks.' }));
        return;
      }
      body.replaceChildren(el('ol', { class: 'kc-activity', id: 'notices-list', 'aria-label': 'Notices, newest first' }, list.map(item)));
    });
  }

  if (refreshButton) {
    refreshButton.addEventListener('click', function () {
      load().then(function () { if (status) { status.textContent = 'Notices refreshed.'; } });
    });
  }
  window.keycapNotices = { noticeText: noticeText, load: load };
  load();
})();
