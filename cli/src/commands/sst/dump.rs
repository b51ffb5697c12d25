//! `cairn sst dump FILE`: what a table or blob file holds, entry by entry.

use std::process::ExitCode;

use cairndb::inspect::{BlobFile, TableEntry, TableFile, TableValue};

use super::{SstFile, kind, open};
use crate::args::SstDumpArgs;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::notation::Notation;
use crate::output::{Out, bytes, count};

/// Prints the summary, a blank line, then one line per entry or record; a
/// damaged block stops the dump with the damage named (exit status 1).
pub fn run(args: &SstDumpArgs) -> Result<ExitCode, Failure> {
    let path = &args.file.file;
    let file = open(path, kind(&args.file)?).at(path)?;
    let notation = args.notation.notation();
    let mut out = Out::new();
    out.field("file", escape::path(path))?;
    match &file {
        SstFile::Table(table) => dump_table(&mut out, table, notation)?,
        SstFile::Blob(blobs) => dump_blob_file(&mut out, blobs, notation)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn dump_table(out: &mut Out, table: &TableFile, notation: Notation) -> Result<(), Failure> {
    let m = table.meta();
    out.field("kind", "table")?;
    out.field(
        "entries",
        format_args!(
            "{} ({}, {}, {})",
            m.entry_count,
            count(m.value_count as usize, "value"),
            count(m.tombstone_count as usize, "tombstone"),
            count(m.blob_ref_count as usize, "blob reference")
        ),
    )?;
    out.field("seqnos", format_args!("{}..={}", m.seqno_min, m.seqno_max))?;
    out.field("keys", format_args!("{} ..= {}", notation.show(&m.key_min), notation.show(&m.key_max)))?;
    out.field(
        "data",
        format_args!(
            "{}, {} ({} raw)",
            count(m.data_block_count as usize, "block"),
            bytes(m.data_bytes),
            bytes(m.raw_bytes)
        ),
    )?;
    out.line("")?;
    for entry in table.entries() {
        let entry = entry.at(table.path())?;
        out.line(format_args!("{}\t{}\t{}", notation.show(&entry.key), entry.seqno, kind_and_value(&entry, notation)))?;
    }
    Ok(())
}

/// `value<TAB>VALUE`, `tombstone<TAB>`, or `blob<TAB>file F, offset O, L bytes`.
fn kind_and_value(entry: &TableEntry, notation: Notation) -> String {
    match &entry.value {
        TableValue::Value(value) => format!("value\t{}", notation.show(value)),
        TableValue::Tombstone => "tombstone\t".to_owned(),
        TableValue::Blob { file, offset, len_bytes } => {
            format!("blob\tfile {file}, offset {offset}, {len_bytes} bytes")
        }
        TableValue::UnreadableBlobRef(raw) => format!("blob\tunreadable reference {}", notation.show(raw)),
        _ => format!("{:?}", entry.value),
    }
}

fn dump_blob_file(out: &mut Out, blobs: &BlobFile, notation: Notation) -> Result<(), Failure> {
    let m = blobs.meta();
    out.field("kind", format_args!("blob file {}", m.id))?;
    out.field(
        "records",
        format_args!(
            "{}, {} of values ({} stored)",
            m.record_count,
            bytes(m.raw_value_bytes),
            bytes(m.stored_value_bytes)
        ),
    )?;
    out.line("")?;
    for record in blobs.records() {
        let record = record.at(blobs.path())?;
        out.line(format_args!(
            "{}\t{}\t{}\t{}",
            notation.show(&record.key),
            record.seqno,
            record.offset,
            notation.show(&record.value)
        ))?;
    }
    Ok(())
}
