// The page's own script, a file of this origin so the Content-Security-Policy needs no inline script.
// Its tag carries data-idle-ms: the idle sign-out limit from the server's configuration (Ui:IdleMinutes).
(function () {
    const idleMs = Number(document.currentScript && document.currentScript.dataset.idleMs) || 15 * 60000;

    // Saves text the page received (an 837P batch) as a file.
    window.kbSave = (name, text, type) => {
        const link = document.createElement('a');
        link.href = URL.createObjectURL(new Blob([text], { type: type || 'text/plain' }));
        link.download = name;
        document.body.appendChild(link);
        link.click();
        link.remove();
    };

    // The text of an input as the page shows it now: a key's event can reach the server before the text typed just
    // before it has been bound (each is handled as it arrives), so Enter asks the page for the text itself.
    window.kbValueOf = (selector) => {
        const input = document.querySelector(selector);
        return input ? input.value : null;
    };

    // Idle sign-out: no mouse, key or touch for the limit signs the user out. Activity also keeps the
    // sliding sign-in cookie alive (a live circuit sends no HTTP requests of its own).
    // A shorter limit may be set in the browser (the browser tests do); never a longer one.
    const stored = Number(localStorage.getItem('kb.idleMs'));
    const limit = stored > 0 ? Math.min(stored, idleMs) : idleMs;
    let last = Date.now(), lastPing = Date.now();
    function signOut() {
        const form = document.getElementById('kb-signout');
        if (form) form.submit(); else location.href = '/account/login';
    }
    function activity() {
        last = Date.now();
        if (Date.now() - lastPing > 60000) {
            lastPing = Date.now();
            fetch('/account/keepalive', { credentials: 'same-origin' }).then(r => { if (r.redirected || r.status === 401) signOut(); });
        }
    }
    ['mousemove', 'keydown', 'click', 'scroll', 'touchstart'].forEach(e => document.addEventListener(e, activity, { passive: true }));
    setInterval(() => { if (Date.now() - last > limit) signOut(); }, Math.min(15000, limit / 2));
})();
