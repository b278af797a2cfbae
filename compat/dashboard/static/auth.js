// The API key dialog, and how a view shows a failed call.

import { AuthError, getKey, onAuth, setKey } from './api.js';
import { h } from './dom.js';

const dialog = document.getElementById('key-dialog');
const keyInput = document.getElementById('key-input');
const keyReason = document.getElementById('key-reason');

// askKey opens the key dialog, saying why.
export function askKey(reason) {
  keyReason.textContent = reason ? 'The server says: ' + reason : 'Set the key sent with every API call.';
  keyInput.value = getKey();
  if (!dialog.open) {
    dialog.showModal();
  }
  keyInput.focus();
}

// initKeyDialog wires the dialog: saved calls saved() after storing the key.
export function initKeyDialog(saved) {
  onAuth((err) => askKey(err.message));
  document.getElementById('key-button').addEventListener('click', () => askKey(''));
  document.getElementById('key-clear').addEventListener('click', () => {
    keyInput.value = '';
  });
  document.getElementById('key-form').addEventListener('submit', () => {
    setKey(keyInput.value.trim());
    saved();
  });
}

// errorBox describes a failed call.
export function errorBox(err) {
  if (err instanceof AuthError) {
    const what = err.status === 401 ? 'The server needs a valid API key' : 'The API key may not do this';
    return h('p', { class: 'error', id: 'auth-needed' }, what + ' (' + err.message + '). ',
      h('button', { type: 'button', class: 'plain', onclick: () => askKey(err.message) }, 'Enter API key'));
  }
  return h('p', { class: 'error' }, String(err.message || err));
}
