#!/usr/bin/python3
"""A WebKitGTK browser for WebKitWebDriver, for the browser tests (tests/browser/webkit.mjs).

Debian's MiniBrowser runs every automation session on an ephemeral data store, where WebKit
refuses OPFS as Safari does in a private window. This browser keeps a session's data in
--data-dir (as Safari keeps a normal window's), or in memory with --private, and turns on
Safari's storage features, which WebKitGTK 2.50 ships switched off.

  webkit-browser.py --automation --data-dir=DIR [--private] [--quota=BYTES]

--quota limits each origin's storage to about BYTES. WebKit takes the limit as a share (the
website data manager's origin-storage-ratio) of a capacity that WebKitGTK 2.50 puts at 16 GiB
here (measured: not the volume's size); tests/browser/safety.test.mjs checks the result.
"""
import argparse
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gtk, WebKit2  # noqa: E402

# On in Safari, off by default in WebKitGTK (MiniBrowser --features=help): the Origin Private
# File System, its sync access handles, and navigator.storage.
FEATURES = {"FileSystem", "AccessHandle", "StorageAPI", "StorageAPIEstimate"}


def settings():
    found = WebKit2.Settings()
    features = WebKit2.Settings.get_all_features()
    for index in range(features.get_length()):
        feature = features.get(index)
        if feature.get_identifier() in FEATURES:
            found.set_feature_enabled(feature, True)
    found.set_enable_write_console_messages_to_stdout(True)
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--automation", action="store_true")
    parser.add_argument("--data-dir")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--quota", type=int)
    args, _ = parser.parse_known_args()
    if args.private or not args.data_dir:
        manager = WebKit2.WebsiteDataManager.new_ephemeral()
    else:
        limits = {}
        if args.quota is not None:
            limits["origin_storage_ratio"] = args.quota / 2**34
        manager = WebKit2.WebsiteDataManager(base_data_directory=args.data_dir, base_cache_directory=args.data_dir + "/cache", **limits)
    context = WebKit2.WebContext(website_data_manager=manager)
    context.set_automation_allowed(args.automation)
    view_settings = settings()
    # A page's window.webkit.messageHandlers.ppdb.postMessage(text) is a line on stdout
    # ("PPDB-BINDING text"): webkit.mjs's exposeBinding, which WebDriver lacks.
    content = WebKit2.UserContentManager()
    content.register_script_message_handler("ppdb")
    content.connect("script-message-received::ppdb", lambda _manager, result: print("PPDB-BINDING", result.get_js_value().to_string(), flush=True))
    windows = []

    def create_web_view(_session):
        view = WebKit2.WebView(web_context=context, settings=view_settings, user_content_manager=content, is_controlled_by_automation=True)
        window = Gtk.Window()
        window.set_default_size(1024, 768)
        window.add(view)
        windows.append(window)

        def closed(_view):
            windows.remove(window)
            window.destroy()
            if not windows:
                Gtk.main_quit()

        view.connect("close", closed)
        window.show_all()
        return view

    def automation_started(_context, session):
        info = WebKit2.ApplicationInfo.new()
        info.set_name("ppdb-webkit")
        info.set_version(WebKit2.get_major_version(), WebKit2.get_minor_version(), WebKit2.get_micro_version())
        session.set_application_info(info)
        session.connect("create-web-view", create_web_view)

    context.connect("automation-started", automation_started)
    Gtk.main()


if __name__ == "__main__":
    sys.exit(main())
