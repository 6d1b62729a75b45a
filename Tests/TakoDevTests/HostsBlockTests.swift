import Foundation
import Testing

@testable import TakoCore

@Suite("The /etc/hosts block")
struct HostsBlockTests {
    let original = "127.0.0.1\tlocalhost\n# my comment\n10.0.0.5 nas.home\n"

    @Test("added at the end, everything else kept byte for byte; replaced in place; removed when empty")
    func lifecycle() {
        let added = HostsBlock.update(original, hosts: ["web.tako.local", "API.tako.local"])
        #expect(added.hasPrefix(original))
        #expect(added.hasSuffix("\(HostsBlock.begin)\n127.0.0.1 api.tako.local\n::1 api.tako.local\n127.0.0.1 web.tako.local\n::1 web.tako.local\n\(HostsBlock.end)\n"))
        #expect(HostsBlock.hosts(in: added) == ["api.tako.local", "web.tako.local"])

        let edited = added + "192.168.1.9 printer\n"
        let replaced = HostsBlock.update(edited, hosts: ["web.tako.local"])
        #expect(replaced.hasSuffix("127.0.0.1 web.tako.local\n::1 web.tako.local\n\(HostsBlock.end)\n192.168.1.9 printer\n"), "the block stays where it was")
        #expect(HostsBlock.hosts(in: replaced) == ["web.tako.local"])

        #expect(HostsBlock.update(replaced, hosts: []) == original + "192.168.1.9 printer\n")
        #expect(HostsBlock.update(original, hosts: []) == original, "nothing to remove changes nothing")
    }

    @Test("an unterminated or doubled block is cleaned up, never duplicated")
    func damaged() {
        let doubled = original + HostsBlock.begin + "\n127.0.0.1 a.tako.local\n" + HostsBlock.end + "\n" + HostsBlock.begin + "\n127.0.0.1 b.tako.local\n" + HostsBlock.end + "\n"
        let fixed = HostsBlock.update(doubled, hosts: ["c.tako.local"])
        #expect(fixed.components(separatedBy: HostsBlock.begin).count == 2)
        #expect(HostsBlock.hosts(in: fixed) == ["c.tako.local"])
        #expect(HostsBlock.update(original + HostsBlock.begin + "\n127.0.0.1 x\n", hosts: []) == original)
    }
}
