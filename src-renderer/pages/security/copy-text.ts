// Copying a secret shown once (a new token, recovery codes) to the clipboard. The Clipboard API
// exists only in secure contexts, and the admin is often plain http:// on the LAN: there the text
// is selected in its field and copied the older way, or left selected for the person to copy.
export async function copyText(text: string, field: HTMLInputElement | HTMLTextAreaElement | null): Promise<boolean> {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Refused (no permission): fall back to selecting the text.
    }
  }
  if (!field) return false;
  field.focus();
  field.select();
  // Deprecated but still the only copy outside a secure context; harmless when it does nothing.
  return document.execCommand('copy');
}
