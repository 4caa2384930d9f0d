//! The requester's side: the storage of a thread without the files.

use super::{Answer, Op, Requests};
use crate::error::{Error, Result};
use crate::storage::{OwnerWork, Storage};
use std::sync::Arc;

/// The storage of a thread without the files: every call goes to the owner.
pub struct RemoteStorage {
    requests: Arc<Requests>,
    limit_ms: u64,
}

impl RemoteStorage {
    /// Calls through `requests`, each waiting at most `limit_ms` for the owner to take it.
    pub fn new(requests: Arc<Requests>, limit_ms: u64) -> RemoteStorage {
        RemoteStorage { requests, limit_ms }
    }

    fn call(&self, op: Op) -> Result<Answer> {
        self.requests.call(op, self.limit_ms)
    }
}

fn unexpected(answer: &Answer) -> Error {
    Error::Io(format!("the files' owner answered {answer:?}"))
}

impl Storage for RemoteStorage {
    fn create(&self, name: &str) -> Result<()> {
        self.call(Op::Create(name.into())).map(drop)
    }
    fn append(&self, name: &str, data: &[u8]) -> Result<()> {
        self.call(Op::Append(name.into(), data.to_vec())).map(drop)
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        match self.call(Op::Read(name.into(), offset, buf.len()))? {
            Answer::Bytes(data) => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                Ok(n)
            }
            other => Err(unexpected(&other)),
        }
    }
    fn len(&self, name: &str) -> Result<u64> {
        match self.call(Op::Len(name.into()))? {
            Answer::Len(n) => Ok(n),
            other => Err(unexpected(&other)),
        }
    }
    fn sync(&self, name: &str) -> Result<()> {
        self.call(Op::Sync(name.into())).map(drop)
    }
    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        self.call(Op::Truncate(name.into(), len)).map(drop)
    }
    fn delete(&self, name: &str) -> Result<()> {
        self.call(Op::Delete(name.into())).map(drop)
    }
    fn list(&self) -> Result<Vec<String>> {
        match self.call(Op::List)? {
            Answer::Names(names) => Ok(names),
            other => Err(unexpected(&other)),
        }
    }
    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.call(Op::Rename(from.into(), to.into())).map(drop)
    }
    fn owned_here(&self) -> bool {
        false
    }
    fn at_owner(&self, work: OwnerWork) -> Result<bool> {
        match self.call(Op::Run(work))? {
            Answer::Flag(flag) => Ok(flag),
            other => Err(unexpected(&other)),
        }
    }
}
