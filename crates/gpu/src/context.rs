//! One explicit wgpu device, queue and pipeline cache, created once and reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

/// Threads per workgroup of every 1-D kernel (`@workgroup_size(256)`).
pub const WORKGROUP: u32 = 256;
/// Largest workgroup count per dispatch dimension guaranteed by WebGPU.
const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// Why the GPU path is unavailable or failed.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter found (install a Vulkan, Metal or DX12 driver; on Linux without a GPU, Mesa's lavapipe: apt-get install mesa-vulkan-drivers libvulkan1): {0}")]
    NoAdapter(String),
    #[error("the GPU adapter '{adapter}' refused a device: {reason}")]
    Device { adapter: String, reason: String },
    #[error("GPU execution failed: {0}")]
    Execution(String),
}

/// A wgpu device with its queue, the adapter's description and limits, and a
/// cache of compiled compute pipelines keyed by kernel name.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pipelines: Mutex<HashMap<&'static str, Arc<wgpu::ComputePipeline>>>,
}

impl GpuContext {
    /// Opens the highest-performance adapter (honouring `WGPU_BACKEND`,
    /// `WGPU_ADAPTER_NAME`) with its full limits.
    pub fn new() -> Result<Self, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter =
            pollster::block_on(
                instance.request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env()
                        .unwrap_or(wgpu::PowerPreference::HighPerformance),
                    ..Default::default()
                }),
            )
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("ferrodose"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device {
            adapter: info.name.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            device,
            queue,
            info,
            limits,
            pipelines: Mutex::new(HashMap::new()),
        })
    }

    /// "name (backend, device type)", for logs and reports.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.backend, self.info.device_type
        )
    }

    /// Largest storage buffer binding in bytes.
    pub fn max_binding_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// The compiled pipeline of a kernel (entry point `main`), built on first use.
    pub fn pipeline(&self, name: &'static str, wgsl: &str) -> Arc<wgpu::ComputePipeline> {
        let mut cache = self.pipelines.lock().expect("pipeline cache poisoned");
        cache
            .entry(name)
            .or_insert_with(|| {
                let module = self
                    .device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(name),
                        source: wgpu::ShaderSource::Wgsl(wgsl.into()),
                    });
                Arc::new(
                    self.device
                        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                            label: Some(name),
                            layout: None,
                            module: &module,
                            entry_point: Some("main"),
                            compilation_options: Default::default(),
                            cache: None,
                        }),
                )
            })
            .clone()
    }

    /// A buffer initialised with `bytes` for the given usage.
    pub fn buffer(&self, label: &str, bytes: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        // wgpu refuses zero-sized bindings: pad empty data to one word.
        let contents: &[u8] = if bytes.is_empty() { &[0; 4] } else { bytes };
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            })
    }

    /// A zeroed read-write storage buffer of `size` bytes that can be copied out.
    pub fn output(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(4),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    /// Runs a 1-D kernel over `n` items with `buffers` bound at bindings 0, 1, …
    /// of group 0, then copies `output` back as `T`s. Workgroups are laid out
    /// `x × y` so that no dimension exceeds 65 535; kernels compute their item as
    /// `gid.x + gid.y · num_workgroups.x · 256`.
    pub fn run_1d<T: bytemuck::Pod>(
        &self,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
        n: u32,
        output: &wgpu::Buffer,
        output_len: usize,
    ) -> Result<Vec<T>, GpuError> {
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(b, buf)| wgpu::BindGroupEntry {
                binding: b as u32,
                resource: buf.as_entire_binding(),
            })
            .collect();
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &layout,
            entries: &entries,
        });
        let groups = n.div_ceil(WORKGROUP).max(1);
        let (gx, gy) = if groups <= MAX_GROUPS_PER_DIM {
            (groups, 1)
        } else {
            (MAX_GROUPS_PER_DIM, groups.div_ceil(MAX_GROUPS_PER_DIM))
        };
        let bytes = (output_len * std::mem::size_of::<T>()) as u64;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: bytes.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(gx, gy, 1);
        }
        enc.copy_buffer_to_buffer(output, 0, &staging, 0, bytes.max(4));
        self.queue.submit([enc.finish()]);
        let slice = staging.slice(..);
        slice.map_async(wgpu::MapMode::Read, |_| {});
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Execution(e.to_string()))?;
        let view = slice
            .get_mapped_range()
            .map_err(|e| GpuError::Execution(e.to_string()))?;
        let out = bytemuck::cast_slice::<u8, T>(&view[..bytes as usize]).to_vec();
        drop(view);
        staging.unmap();
        Ok(out)
    }
}

impl GpuContext {
    /// Voxels per dispatch of a kernel that does `per_voxel` evaluations per
    /// voxel: at most `evaluations` per dispatch (so that none runs long), at
    /// least 256, and no output larger than one storage binding.
    pub fn voxel_tile(&self, evaluations: u64, per_voxel: u32) -> usize {
        let by_time = (evaluations / u64::from(per_voxel.max(1))).max(256);
        by_time.min(self.max_binding_bytes() / 4).max(1) as usize
    }

    /// Runs a per-voxel kernel over `n` voxels in dispatches of at most `tile`:
    /// binding 0 is the uniform `params(offset, count)` of each dispatch,
    /// then `inputs`, then the f32 output of `count` values.
    pub fn run_voxel_tiles(
        &self,
        pipeline: &wgpu::ComputePipeline,
        inputs: &[&wgpu::Buffer],
        n: usize,
        tile: usize,
        params: impl Fn(u32, u32) -> Vec<u8>,
    ) -> Result<Vec<f32>, GpuError> {
        use wgpu::BufferUsages as U;
        let mut out = Vec::with_capacity(n);
        let mut start = 0usize;
        while start < n {
            let count = tile.min(n - start);
            let uniform = self.buffer("params", &params(start as u32, count as u32), U::UNIFORM);
            let dose = self.output("dose", (count * 4) as u64);
            let mut buffers = vec![&uniform];
            buffers.extend_from_slice(inputs);
            buffers.push(&dose);
            out.extend(self.run_1d::<f32>(pipeline, &buffers, count as u32, &dose, count)?);
            start += count;
        }
        Ok(out)
    }

    /// For tests: the GPU context, or `None` (with a message) when no adapter is
    /// found. Panics instead when `FERRODOSE_REQUIRE_GPU=1`, as CI sets it so that
    /// parity tests can never pass by skipping.
    pub fn for_tests(test: &str) -> Option<Self> {
        match Self::new() {
            Ok(ctx) => {
                eprintln!("{test}: running on {}", ctx.describe());
                Some(ctx)
            }
            Err(e) if std::env::var("FERRODOSE_REQUIRE_GPU").as_deref() == Ok("1") => {
                panic!("{test}: FERRODOSE_REQUIRE_GPU=1 but {e}")
            }
            Err(e) => {
                eprintln!("{test}: skipped, {e}");
                None
            }
        }
    }
}
