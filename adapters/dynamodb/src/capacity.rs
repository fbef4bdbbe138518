//! Consumed capacity, asked for on every call (`ReturnConsumedCapacity::TOTAL`) and recorded as
//! the histogram `tessera_dynamodb_consumed_capacity_units{kind="read"|"write"}` in `/metrics`:
//! what each request costs in read and write units is visible in production and in benchmarks.

use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::ConsumedCapacity;

pub(crate) use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

pub(crate) const TOTAL: ReturnConsumedCapacity = ReturnConsumedCapacity::Total;

pub(crate) trait Consumed {
    fn units(&self) -> f64;
}

fn sum<'a>(all: impl IntoIterator<Item = &'a ConsumedCapacity>) -> f64 {
    all.into_iter().filter_map(ConsumedCapacity::capacity_units).sum()
}

macro_rules! one {
    ($($output:ty),*) => {$(
        impl Consumed for $output {
            fn units(&self) -> f64 {
                sum(self.consumed_capacity())
            }
        }
    )*};
}

// A single call reports one `ConsumedCapacity`; batches and transactions one per table.
one!(
    GetItemOutput,
    PutItemOutput,
    UpdateItemOutput,
    DeleteItemOutput,
    QueryOutput,
    ScanOutput,
    BatchGetItemOutput,
    BatchWriteItemOutput,
    TransactWriteItemsOutput
);

pub(crate) fn record(kind: &'static str, output: &impl Consumed) {
    metrics::histogram!("tessera_dynamodb_consumed_capacity_units", "kind" => kind).record(output.units());
}
