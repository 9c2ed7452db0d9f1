//! The compiled module on the in-process test host.

use envoyx_bench_module::ADDED_HEADER;

#[test]
fn header_job_adds_one_response_header() {
    let so = envoyx_testhost::build_module(env!("CARGO_MANIFEST_DIR"));
    let host = envoyx_testhost::TestHost::load(so, "bench", "header").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), (":method", "GET")], true);
    stream.response_headers(&[(":status", "200"), (ADDED_HEADER.0, "0")], true);
    let response = stream.client_response_headers();
    assert_eq!(response.values(ADDED_HEADER.0), vec!["0".to_string(), ADDED_HEADER.1.to_string()]);
}

#[test]
fn pass_job_changes_nothing() {
    let so = envoyx_testhost::build_module(env!("CARGO_MANIFEST_DIR"));
    let host = envoyx_testhost::TestHost::load(so, "bench", "pass").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), (":method", "POST")], false);
    stream.request_body(&[b"abc".as_slice(), b"def"], true);
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get(ADDED_HEADER.0), None);
    assert_eq!(stream.body_bytes_copied(), 0);
}

#[test]
fn refuses_an_unknown_job() {
    let so = envoyx_testhost::build_module(env!("CARGO_MANIFEST_DIR"));
    assert!(envoyx_testhost::TestHost::load(so, "bench", "sideways").is_err());
}

#[test]
fn respond_job_answers_itself_in_16_data_frames() {
    use envoyx_bench_module::{RESPONSE_BODY, RESPONSE_CHUNK_BYTES, RESPONSE_CHUNKS};
    use envoyx_testhost::{AnswerPart, HeadersStatus};
    let so = envoyx_testhost::build_module(env!("CARGO_MANIFEST_DIR"));
    let host = envoyx_testhost::TestHost::load(so, "bench", "respond").unwrap();
    let mut stream = host.stream();
    let status = stream.request_headers(&[(":path", "/bench"), (":method", "GET")], true);
    assert_eq!(status, HeadersStatus::StopIteration);
    assert!(!stream.request_headers_forwarded(), "no upstream is asked");
    assert_eq!(stream.client_response_headers().get(":status").as_deref(), Some("200"));
    assert_eq!(stream.client_response_body(), RESPONSE_BODY);
    let parts = stream.module_response();
    assert_eq!(parts.len(), 1 + RESPONSE_CHUNKS, "{parts:?}");
    assert!(
        matches!(&parts[0], AnswerPart::Headers { status: 200, headers, end_of_stream: false } if headers.is_empty()),
        "{:?}",
        parts[0]
    );
    for (i, part) in parts[1..].iter().enumerate() {
        let AnswerPart::Data { data, end_of_stream } = part else { panic!("part {i}: {part:?}") };
        assert_eq!(data.len(), RESPONSE_CHUNK_BYTES, "frame {i}");
        assert!(data.iter().all(|&b| b == b'a' + i as u8), "frame {i}");
        assert_eq!(*end_of_stream, i + 1 == RESPONSE_CHUNKS, "frame {i}");
    }
    assert!(stream.client_response_trailers().is_none(), "no trailers");
}
