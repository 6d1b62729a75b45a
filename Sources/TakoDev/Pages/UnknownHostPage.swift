/// What the dev daemon answers for a name no dev app has (421 Misdirected Request): the dev
/// URLs it does serve, so a typo or a stopped `tako dev` explains itself.
public enum UnknownHostPage {
    /// `urls`: each registered app's URLs.
    public static func render(host: String, urls: [(app: String, url: String)]) -> String {
        var html = """
            <!doctype html><meta charset="utf-8"><title>No dev app at \(escape(host))</title>
            <style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}code{background:#f3f3f3;padding:0 .2em}</style>
            <h1>No dev app answers at <code>\(escape(host))</code></h1>

            """
        if urls.isEmpty {
            html += "<p>No app is registered. Run <code>tako dev</code> in an app's directory.</p>\n"
        } else {
            html += "<p>Registered dev apps:</p>\n<ul>\n"
            for (app, url) in urls.sorted(by: { ($0.app, $0.url) < ($1.app, $1.url) }) {
                html += "<li>\(escape(app)): <a href=\"\(escape(url))\">\(escape(url))</a></li>\n"
            }
            html += "</ul>\n"
        }
        return html
    }

    /// HTML-escapes text: a host name comes from the request and must never become markup.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
