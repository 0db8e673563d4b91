use ephflow::core::testkit::synthetic::{Shape, generate};
use ephflow::schema::{Document, Draft, SchemaValidator};
use std::time::Instant;
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    ephflow::aws::register();
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let ce: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let text = generate(&Shape {
        actions: n,
        width: 8,
        vm_every: 50,
        conditional_every: ce,
    })
    .to_string();
    let doc = Document::parse(&text).unwrap();
    let t = Instant::now();
    let v = SchemaValidator::new(
        ephflow::core::validate::document_schema(Draft::Draft2020_12).unwrap(),
    )
    .unwrap();
    println!("compile {:?}", t.elapsed());
    let t = Instant::now();
    let d = v.validate(doc.value());
    println!("schema {:?} {}", t.elapsed(), d.len());
    let t = Instant::now();
    let w = doc.workflow().unwrap();
    println!("typed {:?}", t.elapsed());
    let t = Instant::now();
    let g = ephflow::core::graph::Graph::build(&w);
    println!("graph {:?}", t.elapsed());
    let t = Instant::now();
    let o = g.topological_order().unwrap();
    println!("topo {:?}", t.elapsed());
    let t = Instant::now();
    let rc = g.run_conditions(&o);
    println!("conds {:?} {}", t.elapsed(), rc.table.len());
    let t = Instant::now();
    let s = ephflow::core::validate::check_workflow(&w).unwrap();
    println!("semantic {:?} {}", t.elapsed(), s.len());
    let t = Instant::now();
    let sc = ephflow::core::scenarios::enumerate(&g, &o, &rc, 1_000_000).unwrap();
    println!("scenarios {:?} {}", t.elapsed(), sc.len());
    let t = Instant::now();
    let a = ephflow::core::inject::inject(
        &w,
        ephflow::core::inject::Strategy::Parallel,
        &Default::default(),
    )
    .unwrap();
    println!("inject {:?} {}", t.elapsed(), a.stops.len());
}
