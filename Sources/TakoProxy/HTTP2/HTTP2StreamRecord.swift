import NIOCore
import NIOHTTP2

/// What `HTTP2ServerConnection` keeps of one open stream: its two ends, its flow-control
/// windows, and the frames waiting for the client's window.
struct HTTP2StreamRecord {
    /// A frame held back: DATA beyond the window, or a HEADERS block (trailers) behind such DATA.
    enum Pending {
        case data(ByteBuffer, endStream: Bool, promise: EventLoopPromise<Void>?)
        case headers(ByteBuffer, endStream: Bool, promise: EventLoopPromise<Void>?)
    }

    let id: HTTP2StreamID
    /// Relayed (`HTTP2ProxyStream`) rather than given to a stream channel.
    let isRelayed: Bool
    /// The client's END_STREAM arrived.
    var remoteEnded: Bool
    /// Our END_STREAM left (or is about to): nothing more is written on the stream.
    var localEnded = false
    /// Once a frame with END_STREAM is queued, the stream takes no more frames.
    var closedForWrites = false
    /// What the client lets us send.
    var sendWindow: Int
    /// What we let the client send (channel streams: the stream channel opens it as it reads).
    var receiveWindow = HTTP2ServerConnection.initialWindow
    var pending = CircularBuffer<Pending>()
    /// The request's `content-length`, which its DATA frames must add up to (RFC 9113 §8.1.1).
    let contentLength: Int?
    var received = 0
    /// The response's last frame is not written yet: a reset now cuts it short.
    var responseOpen: Bool { !localEnded }

    init(id: HTTP2StreamID, isRelayed: Bool, remoteEnded: Bool, sendWindow: Int, contentLength: Int?) {
        self.id = id
        self.isRelayed = isRelayed
        self.remoteEnded = remoteEnded
        self.sendWindow = sendWindow
        self.contentLength = contentLength
    }

    func failQueued() {
        for item in pending {
            switch item {
            case .data(_, _, let promise), .headers(_, _, let promise): promise?.fail(ChannelError.ioOnClosedChannel)
            }
        }
    }
}
