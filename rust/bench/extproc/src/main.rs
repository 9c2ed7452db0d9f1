//! The benchmarks' ext_proc server: `envoyx-bench-extproc --job header|upper|pass|respond`.
//!
//! It binds 127.0.0.1 on a port the system picks, prints `listening on 127.0.0.1:PORT` on
//! stdout, and serves Envoy's `ExternalProcessor` until it is killed. What it does depends on the
//! messages Envoy's processing mode sends:
//! - `header`: answers response headers with a mutation adding `x-bench-added: 1`;
//! - `upper`: answers a (buffered) request body with the body upper-cased (ASCII letters);
//! - `pass`: answers every message with no change;
//! - `respond`: answers the request headers with an ImmediateResponse, status 200 and the respond
//!   job's 64 KiB body (16 × 4 KiB, chunk i the letter `a` + i), which Envoy sends whole.
//!
//! It runs on one thread, as Envoy does in the benchmark (`--concurrency 1`), so its CPU time
//! per request compares with Envoy's.

use envoy_types::pb::envoy::config::core::v3::{HeaderValue, HeaderValueOption};
use envoy_types::pb::envoy::service::ext_proc::v3::external_processor_server::{
    ExternalProcessor, ExternalProcessorServer,
};
use envoy_types::pb::envoy::service::ext_proc::v3::{
    BodyMutation, BodyResponse, CommonResponse, HeaderMutation, HeadersResponse, ImmediateResponse,
    ProcessingRequest, ProcessingResponse, TrailersResponse, body_mutation, processing_request,
    processing_response,
};
use envoy_types::pb::envoy::r#type::v3::{HttpStatus, StatusCode};
use std::io::Write;
use std::pin::Pin;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    Header,
    Upper,
    Pass,
    Respond,
}

/// The respond job's body, as `envoyx_bench::pattern::response_body` makes it: 16 chunks of
/// 4 KiB, chunk i the letter `a` + i.
fn response_body() -> Vec<u8> {
    let mut body = vec![0; 64 << 10];
    for (i, chunk) in body.chunks_mut(4 << 10).enumerate() {
        chunk.fill(b'a' + i as u8);
    }
    body
}

struct Processor {
    job: Job,
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<ProcessingResponse, Status>> + Send>>;

/// The answer to one message from Envoy.
fn answer(job: Job, request: ProcessingRequest) -> Result<ProcessingResponse, Status> {
    use processing_request::Request as In;
    use processing_response::Response as Out;
    let response = match request.request {
        Some(In::RequestHeaders(_)) if job == Job::Respond => Out::ImmediateResponse(ImmediateResponse {
            status: Some(HttpStatus { code: StatusCode::Ok as i32 }),
            body: response_body(),
            ..ImmediateResponse::default()
        }),
        Some(In::RequestHeaders(_)) => Out::RequestHeaders(HeadersResponse::default()),
        Some(In::ResponseHeaders(_)) => {
            let mut common = CommonResponse::default();
            if job == Job::Header {
                common.header_mutation = Some(HeaderMutation {
                    set_headers: vec![HeaderValueOption {
                        header: Some(HeaderValue {
                            key: "x-bench-added".to_string(),
                            raw_value: b"1".to_vec(),
                            ..HeaderValue::default()
                        }),
                        ..HeaderValueOption::default()
                    }],
                    ..HeaderMutation::default()
                });
            }
            Out::ResponseHeaders(HeadersResponse { response: Some(common) })
        }
        Some(In::RequestBody(mut body)) => {
            let mut common = CommonResponse::default();
            if job == Job::Upper {
                // The decoded message owns the bytes: rewritten there, then sent back.
                body.body.make_ascii_uppercase();
                common.body_mutation =
                    Some(BodyMutation { mutation: Some(body_mutation::Mutation::Body(body.body)) });
            }
            Out::RequestBody(BodyResponse { response: Some(common) })
        }
        Some(In::ResponseBody(_)) => Out::ResponseBody(BodyResponse::default()),
        Some(In::RequestTrailers(_)) => Out::RequestTrailers(TrailersResponse::default()),
        Some(In::ResponseTrailers(_)) => Out::ResponseTrailers(TrailersResponse::default()),
        None => return Err(Status::invalid_argument("empty ProcessingRequest")),
    };
    Ok(ProcessingResponse { response: Some(response), ..ProcessingResponse::default() })
}

#[tonic::async_trait]
impl ExternalProcessor for Processor {
    type ProcessStream = ResponseStream;

    async fn process(
        &self,
        request: Request<Streaming<ProcessingRequest>>,
    ) -> Result<Response<Self::ProcessStream>, Status> {
        let job = self.job;
        let stream = request.into_inner().map(move |message| answer(job, message?));
        Ok(Response::new(Box::pin(stream)))
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let job = match (args.next().as_deref(), args.next().as_deref()) {
        (Some("--job"), Some("header")) => Job::Header,
        (Some("--job"), Some("upper")) => Job::Upper,
        (Some("--job"), Some("pass")) => Job::Pass,
        (Some("--job"), Some("respond")) => Job::Respond,
        _ => {
            eprintln!("usage: envoyx-bench-extproc --job header|upper|pass|respond");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        println!("listening on {address}");
        std::io::stdout().flush().expect("stdout");
        // Bodies up to 16 MiB travel in one message each way.
        let service = ExternalProcessorServer::new(Processor { job })
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener).map(|conn| {
                // Nagle's algorithm would hold small answers back until Envoy's delayed ACK.
                if let Ok(conn) = &conn {
                    let _ = conn.set_nodelay(true);
                }
                conn
            }))
            .await
            .expect("ext_proc server");
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::service::ext_proc::v3::{HttpBody, HttpHeaders};

    fn request(request: processing_request::Request) -> ProcessingRequest {
        ProcessingRequest { request: Some(request), ..ProcessingRequest::default() }
    }

    #[test]
    fn upper_job_returns_the_body_upper_cased() {
        let body = HttpBody { body: b"hello, World 42".to_vec(), end_of_stream: true, ..HttpBody::default() };
        let out = answer(Job::Upper, request(processing_request::Request::RequestBody(body))).unwrap();
        let Some(processing_response::Response::RequestBody(BodyResponse { response: Some(common) })) =
            out.response
        else {
            panic!("not a request-body answer: {out:?}")
        };
        let Some(BodyMutation { mutation: Some(body_mutation::Mutation::Body(bytes)) }) =
            common.body_mutation
        else {
            panic!("no body mutation")
        };
        assert_eq!(bytes, b"HELLO, WORLD 42");
    }

    #[test]
    fn header_job_adds_the_header_and_pass_job_adds_nothing() {
        let headers = || request(processing_request::Request::ResponseHeaders(HttpHeaders::default()));
        let added = answer(Job::Header, headers()).unwrap();
        let Some(processing_response::Response::ResponseHeaders(HeadersResponse { response: Some(c) })) =
            added.response
        else {
            panic!("not a response-headers answer")
        };
        let header = c.header_mutation.unwrap().set_headers[0].header.clone().unwrap();
        assert_eq!((header.key.as_str(), header.raw_value.as_slice()), ("x-bench-added", b"1".as_slice()));
        let passed = answer(Job::Pass, headers()).unwrap();
        let Some(processing_response::Response::ResponseHeaders(HeadersResponse { response: Some(c) })) =
            passed.response
        else {
            panic!("not a response-headers answer")
        };
        assert!(c.header_mutation.is_none());
    }

    #[test]
    fn respond_job_answers_the_request_headers_itself() {
        let headers = request(processing_request::Request::RequestHeaders(HttpHeaders::default()));
        let out = answer(Job::Respond, headers.clone()).unwrap();
        let Some(processing_response::Response::ImmediateResponse(reply)) = out.response else {
            panic!("not an immediate response: {out:?}")
        };
        assert_eq!(reply.status.map(|s| s.code), Some(200));
        assert_eq!(reply.body.len(), 64 << 10);
        for (i, chunk) in reply.body.chunks(4096).enumerate() {
            assert!(chunk.iter().all(|&b| b == b'a' + i as u8), "chunk {i}");
        }
        // The other jobs let the request headers go on.
        let passed = answer(Job::Pass, headers).unwrap();
        assert!(matches!(passed.response, Some(processing_response::Response::RequestHeaders(_))));
    }

    #[test]
    fn refuses_an_empty_message() {
        assert!(answer(Job::Pass, ProcessingRequest::default()).is_err());
    }
}
