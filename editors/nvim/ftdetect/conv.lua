-- Files ending in .conv are conv programs.
vim.cmd([[autocmd BufRead,BufNewFile *.conv setfiletype conv]])
