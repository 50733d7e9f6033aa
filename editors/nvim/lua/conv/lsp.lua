-- Starts the conv language server (`conv lsp`, over stdio) for conv buffers.
--
--   require('conv.lsp').setup()
--
-- One server runs per root directory and is shared by every conv buffer under that root. On
-- Neovim 0.7, which has no vim.lsp.start, the client is started with vim.lsp.start_client and
-- each buffer attached with vim.lsp.buf_attach_client; later versions use vim.lsp.start.

local M = {}

local defaults = {
  -- The command that starts the server.
  cmd = { 'conv', 'lsp' },
  -- Searched for upwards from each file, in this order: the nearest directory holding the first
  -- marker found is the root (the repository, else the program's `.conv` state directory).
  -- Without a match, the root is the file's own directory. Each root gets one server.
  root_markers = { '.git', '.conv' },
  -- function(fname) -> directory, to pick the root some other way.
  root_dir = nil,
  -- Passed through to vim.lsp.start_client.
  capabilities = nil,
  settings = nil,
  init_options = nil,
  -- function(client, bufnr), called after the defaults below are set for the buffer.
  on_attach = nil,
  -- Format the buffer through the server before each write.
  format_on_save = false,
}

local config = vim.deepcopy(defaults)
local clients = {} -- root directory -> client id
local warned = false

local function notify(msg, level)
  vim.notify('conv: ' .. msg, level or vim.log.levels.WARN)
end

local function exists(path)
  return vim.loop.fs_stat(path) ~= nil
end

-- The nearest directory at or above `dir` that holds `marker`.
local function search_up(dir, marker)
  while dir and dir ~= '' do
    if exists(dir .. '/' .. marker) then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return nil
    end
    dir = parent
  end
  return nil
end

local function find_root(bufnr)
  local fname = vim.api.nvim_buf_get_name(bufnr)
  if fname == '' then
    return vim.loop.cwd()
  end
  fname = vim.fn.fnamemodify(fname, ':p')
  if config.root_dir then
    local root = config.root_dir(fname)
    if root then
      return root
    end
  end
  local dir = vim.fn.fnamemodify(fname, ':h')
  for _, marker in ipairs(config.root_markers or {}) do
    local root = search_up(dir, marker)
    if root then
      return root
    end
  end
  return dir
end

local function format_buffer(bufnr)
  if vim.lsp.buf.format then
    vim.lsp.buf.format({
      bufnr = bufnr,
      timeout_ms = 2000,
      filter = function(client)
        return client.name == 'conv'
      end,
    })
  elseif vim.api.nvim_get_current_buf() == bufnr then
    vim.lsp.buf.formatting_sync(nil, 2000)
  end
end

local function on_attach(client, bufnr)
  vim.bo[bufnr].omnifunc = 'v:lua.vim.lsp.omnifunc'
  if vim.lsp.tagfunc then
    vim.bo[bufnr].tagfunc = 'v:lua.vim.lsp.tagfunc'
  end
  if config.format_on_save then
    vim.api.nvim_create_autocmd('BufWritePre', {
      group = vim.api.nvim_create_augroup('conv_lsp_format_' .. bufnr, { clear = true }),
      buffer = bufnr,
      callback = function()
        format_buffer(bufnr)
      end,
    })
  end
  if config.on_attach then
    config.on_attach(client, bufnr)
  end
end

local function running(id)
  local client = id and vim.lsp.get_client_by_id(id)
  return client ~= nil and not client.is_stopped()
end

local function client_config(root)
  return {
    name = 'conv',
    cmd = config.cmd,
    cmd_cwd = root,
    root_dir = root,
    capabilities = config.capabilities or vim.lsp.protocol.make_client_capabilities(),
    settings = config.settings or {},
    init_options = config.init_options,
    on_attach = on_attach,
    on_exit = function(_, _, client_id)
      if clients[root] == client_id then
        clients[root] = nil
      end
    end,
  }
end

local function executable()
  if vim.fn.executable(config.cmd[1]) == 1 then
    return true
  end
  if not warned then
    warned = true
    notify(
      string.format("'%s' is not executable; install conv or pass cmd to setup()", config.cmd[1]),
      vim.log.levels.ERROR
    )
  end
  return false
end

--- Attaches the conv server to `bufnr` (default: the current buffer), starting it if needed.
--- Returns the client id, or nil when the server could not be started.
function M.attach(bufnr)
  if bufnr == nil or bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  if not executable() then
    return nil
  end
  local root = find_root(bufnr)
  if vim.lsp.start then
    -- Neovim 0.8 and later: vim.lsp.start reuses the client of the same name and root.
    local id = vim.lsp.start(client_config(root), { bufnr = bufnr })
    if id then
      clients[root] = id
    end
    return id
  end
  -- Neovim 0.7: start one client per root by hand and attach each buffer to it.
  local id = clients[root]
  if not running(id) then
    id = vim.lsp.start_client(client_config(root))
    if not id then
      notify('could not start ' .. table.concat(config.cmd, ' '), vim.log.levels.ERROR)
      return nil
    end
    clients[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Stops every conv server this module started.
function M.stop()
  for root, id in pairs(clients) do
    vim.lsp.stop_client(id)
    clients[root] = nil
  end
end

--- Stops the servers and attaches every loaded conv buffer again, which starts them anew.
function M.restart()
  M.stop()
  warned = false
  -- Give the old servers a moment to exit before new ones start.
  vim.defer_fn(function()
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype == 'conv' then
        M.attach(bufnr)
      end
    end
  end, 500)
end

--- Configures the module and attaches the server to conv buffers, now and from then on.
--- `opts` overrides the defaults above, e.g. { cmd = { '/path/to/conv', 'lsp' } }.
function M.setup(opts)
  config = vim.tbl_extend('force', vim.deepcopy(defaults), opts or {})
  if type(config.cmd) == 'string' then
    config.cmd = { config.cmd, 'lsp' }
  end
  warned = false

  local group = vim.api.nvim_create_augroup('conv_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = 'conv',
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  vim.api.nvim_create_user_command('ConvLspRestart', M.restart, { desc = 'Restart the conv language server' })

  -- Buffers opened before setup() ran.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype == 'conv' then
      M.attach(bufnr)
    end
  end
end

return M
