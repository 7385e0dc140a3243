// The organization's keys, for its admins: create one (of a kind) and list
// them, through the same keys API with ?owner=<organization>.
"use strict";
(function () {
  const section = document.getElementById("org-keys");
  if (!section) return;
  const owner = section.dataset.owner;
  const base = "/api-keys?owner=" + encodeURIComponent(owner);
  const body = document.getElementById("org-keys-body");
  const form = document.getElementById("org-create-form");
  const errorBox = document.getElementById("org-create-error");

  async function load() {
    const resp = await fetch(base, { headers: { Accept: "application/json" } });
    const data = await resp.json();
    if (!resp.ok) {
      body.textContent = data.message || "Could not load the keys.";
      return;
    }
    body.replaceChildren();
    if (data.keys.length === 0) {
      const p = document.createElement("p");
      p.className = "kc-muted";
      p.textContent = "No keys yet.";
      body.append(p);
      return;
    }
    const ul = document.createElement("ul");
    ul.className = "plain org-key-list";
    for (const k of data.keys) {
      const li = document.createElement("li");
      const perms = Object.entries(k.permissions).flatMap(([r, as]) => as.map((a) => r + ":" + a)).join(", ");
      li.textContent = k.name + " · " + (k.kind || "default") + " · " + k.status + " · " + perms + " · made by " + k.created_by;
      li.dataset.id = k.id;
      ul.append(li);
    }
    body.append(ul);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errorBox.hidden = true;
    const permissions = {};
    for (const box of form.querySelectorAll("input[name=perm]:checked")) {
      const [r, a] = box.value.split(":");
      (permissions[r] = permissions[r] || []).push(a);
    }
    const payload = { name: form.elements.name.value, kind: form.elements.kind.value, permissions };
    const resp = await fetch(base, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
    });
    const data = await resp.json();
    if (!resp.ok) {
      errorBox.textContent = data.message || "The key was not created.";
      errorBox.hidden = false;
      return;
    }
    document.getElementById("org-new-key-value").value = data.key;
    document.getElementById("org-new-key").hidden = false;
    form.reset();
    await load();
  });

  load();
})();
