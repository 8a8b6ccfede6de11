/** Form helpers: read values, and show the API's problem JSON at the fields it names. */
import { $$ } from './dom.js';

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export function clearErrors(form) {
  for (const slot of $$('[data-error-for]', form)) slot.textContent = '';
  for (const input of $$('[aria-invalid]', form)) input.removeAttribute('aria-invalid');
}

/** errors: {field: [messages]} from the problem body; fields this form lacks go to its form-level slot. */
export function showErrors(form, error) {
  clearErrors(form);
  const leftover = [];
  for (const [field, messages] of Object.entries(error.errors || {})) {
    const text = [].concat(messages).join(' ');
    const slot = form.querySelector(`.field-error[data-error-for="${CSS.escape(field)}"]`);
    const input = form.elements.namedItem(field);
    if (slot && input) {
      slot.textContent = text;
      input.setAttribute('aria-invalid', 'true');
    } else {
      leftover.push(`${field}: ${text}`);
    }
  }
  const general = form.querySelector('.form-error[data-error-for="form"]');
  if (general) general.textContent = leftover.length ? leftover.join(' ') : (Object.keys(error.errors || {}).length ? '' : error.message);
  const firstInvalid = form.querySelector('[aria-invalid="true"]');
  if (firstInvalid) firstInvalid.focus();
}
