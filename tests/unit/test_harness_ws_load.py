"""The load clients' raw reading: frames parsed from large reads, and an expected prefix compared byte for byte."""
from wsproto.frame_protocol import FrameProtocol

from harness.ws_load import ExpectedPrefix, read_raw_messages, server_frames

SERVER = FrameProtocol(client=False, extensions=[])


class ChunkedSocket:
    """A connected socket whose reads hand out these pieces of bytes in order, then the end of the connection."""

    def __init__(self, data: bytes, sizes: list[int]):
        self.pieces = []
        for size in sizes:
            self.pieces.append(data[:size])
            data = data[size:]
        self.pieces += [data, b""] if data else [b""]

    def recv(self, _size: int) -> bytes:
        return self.pieces.pop(0)


class RawClient:
    """What read_raw_messages uses of a websocket-client WebSocket: its socket, and pong."""

    def __init__(self, data: bytes, sizes: list[int]):
        self.sock = ChunkedSocket(data, sizes)
        self.pongs: list[bytes] = []

    def pong(self, payload: bytes) -> None:
        self.pongs.append(payload)


def read(data: bytes, sizes: list[int], expected_messages: list[str] | None = None):
    delivered, matched = [], []
    client = RawClient(data, sizes)
    expected = ExpectedPrefix(server_frames(expected_messages), matched.append) if expected_messages else None
    ending = read_raw_messages(client, lambda text, arrived: delivered.append(text), expected)
    return delivered, matched, expected, client, ending


def test_frames_split_across_reads_are_delivered_whole_and_in_order():
    data = server_frames(["one", "two" * 100, "three"])
    delivered, _matched, _expected, _client, ending = read(data, [1, 5, 200])
    assert delivered == ["one", "two" * 100, "three"]
    assert ending == "connection closed without a close frame"


def test_a_prefix_that_arrives_as_expected_is_compared_not_parsed():
    replay = ["hello", "event 1", "event 2" * 50]
    data = server_frames(replay + ["marker"])
    end_of_prefix = len(server_frames(replay))
    delivered, matched, expected, _client, _ending = read(data, [3, end_of_prefix - 10, 12], replay)
    assert delivered == ["marker"]  # only what follows the prefix is parsed
    assert len(matched) == 1 and expected is not None and not expected.diverged


def test_bytes_that_differ_from_the_prefix_have_everything_parsed_from_the_start():
    replay = ["hello", "event 1", "event 2"]
    ping = bytes(SERVER.ping(b"p"))
    data = server_frames(replay[:2]) + ping + server_frames(replay[2:] + ["marker"])
    delivered, matched, expected, client, _ending = read(data, [4, len(server_frames(replay[:2])) - 4], replay)
    assert delivered == replay + ["marker"]  # the matched part too: the reader checks every message itself
    assert client.pongs == [b"p"]
    assert matched == [] and expected is not None and expected.diverged


def test_a_shorter_stream_never_counts_as_the_prefix():
    delivered, matched, _expected, _client, ending = read(server_frames(["hello"]), [], ["hello", "event 1"])
    assert matched == [] and delivered == []
    assert ending == "connection closed without a close frame"
